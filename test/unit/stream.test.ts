import { describe, expect, it } from "vitest";
import { SIM_START_PRICES } from "../../worker/feeds/sim-universe";
import { Coalescer } from "../../worker/feeds/stream/coalescer";
import type { StreamEvent } from "../../worker/feeds/stream/codec";
import { Link, type LinkOptions } from "../../worker/feeds/stream/link";
import {
  AlpacaStream,
  BinanceStream,
  CoinbaseStream,
  createStreamCodec,
  FinnhubStream,
  PolygonStream,
} from "../../worker/feeds/stream/providers";
import { RateWindow } from "../../worker/feeds/stream/rate-window";
import { type SimTrade, simTradePrice, simTradeRate, simTrades } from "../../worker/feeds/stream/sim-stream";
import { SubscriptionSet } from "../../worker/feeds/stream/subscriptions";
import { assetClass } from "../../worker/market/hours";

const T = 1_795_000_000_000;

describe("stream codecs", () => {
  it("finnhub: token in the URL, one subscribe per symbol, trades in ms, pings, errors", () => {
    const c = new FinnhubStream({ key: "k1", url: "ws://127.0.0.1:9/ws" });
    expect(c.url()).toBe("ws://127.0.0.1:9/ws?token=k1");
    expect(c.readyOnOpen).toBe(true);
    expect(c.subscribe(["AAPL", "BTC-USD", "MSFT"])).toEqual([
      '{"type":"subscribe","symbol":"AAPL"}',
      '{"type":"subscribe","symbol":"MSFT"}',
    ]);
    expect(c.unsubscribe(["AAPL"])).toEqual(['{"type":"unsubscribe","symbol":"AAPL"}']);
    expect(
      c.decode(
        JSON.stringify({
          type: "trade",
          data: [
            { s: "AAPL", p: 190.5, v: 100, t: T },
            { s: "AAPL", p: "x", t: T },
          ],
        }),
      ),
    ).toEqual([
      { kind: "trade", symbol: "AAPL", price: 190.5, size: 100, ts: T },
      { kind: "malformed", reason: expect.any(String) },
    ]);
    expect(c.decode('{"type":"ping"}')).toEqual([{ kind: "heartbeat" }]);
    expect(c.decode('{"type":"error","msg":"Invalid API key"}')).toEqual([
      { kind: "fault", fault: "auth", reason: "Invalid API key", fatal: true },
    ]);
    // A trade of a symbol never subscribed is not ours.
    expect(c.decode('{"type":"trade","data":[{"s":"TSLA","p":1,"t":1}]}')[0]!.kind).toBe("malformed");
  });

  it("alpaca: authenticates first, trades and quotes, delayed_sip is delayed, 406 is a connection-limit fault", () => {
    const c = new AlpacaStream({
      key: "id",
      secret: "sec",
      alpacaDataFeed: "delayed_sip",
      url: "ws://127.0.0.1:9/v2/{feed}",
    });
    expect(c.url()).toBe("ws://127.0.0.1:9/v2/delayed_sip");
    expect(c.delayed).toBe(true);
    expect(new AlpacaStream({}).delayed).toBe(false);
    expect(new AlpacaStream({}).url()).toBe("wss://stream.data.alpaca.markets/v2/iex");
    expect(c.readyOnOpen).toBe(false);
    expect(c.hello()).toEqual(['{"action":"auth","key":"id","secret":"sec"}']);
    expect(c.subscribe(["AAPL"])).toEqual(['{"action":"subscribe","trades":["AAPL"],"quotes":["AAPL"]}']);
    expect(c.decode('[{"T":"success","msg":"connected"}]')).toEqual([{ kind: "heartbeat" }]);
    expect(c.decode('[{"T":"success","msg":"authenticated"}]')).toEqual([{ kind: "ready" }]);
    expect(c.decode('[{"T":"subscription","trades":["AAPL"],"quotes":["AAPL"],"bars":[]}]')).toEqual([
      { kind: "subscribed", symbols: ["AAPL"] },
    ]);
    const events = c.decode(
      JSON.stringify([
        { T: "t", S: "AAPL", p: 190.1, s: 5, t: "2026-11-17T15:00:00.123456789Z" },
        { T: "q", S: "AAPL", bp: 190, ap: 190.2, t: "2026-11-17T15:00:00.2Z" },
      ]),
    );
    expect(events).toEqual([
      { kind: "trade", symbol: "AAPL", price: 190.1, size: 5, ts: Date.parse("2026-11-17T15:00:00.123Z") },
      { kind: "quote", symbol: "AAPL", bid: 190, ask: 190.2, ts: Date.parse("2026-11-17T15:00:00.2Z") },
    ]);
    expect(c.decode('[{"T":"error","code":406,"msg":"connection limit exceeded"}]')).toEqual([
      { kind: "fault", fault: "connection-limit", reason: "406 connection limit exceeded", fatal: true },
    ]);
    expect(c.decode('[{"T":"error","code":402,"msg":"auth failed"}]')[0]).toMatchObject({ fault: "auth", fatal: true });
    expect(c.decode('[{"T":"error","code":405,"msg":"symbol limit exceeded"}]')[0]).toMatchObject({
      fault: "symbol-limit",
      fatal: false,
    });
  });

  it("coinbase: channels per product, sequence gaps, old messages never a price", () => {
    const c = new CoinbaseStream({});
    expect(c.subscribe(["BTC-USD", "AAPL"]).map((m) => JSON.parse(m))).toEqual([
      { type: "subscribe", channel: "market_trades", product_ids: ["BTC-USD"] },
      { type: "subscribe", channel: "ticker", product_ids: ["BTC-USD"] },
      { type: "subscribe", channel: "heartbeats", product_ids: ["BTC-USD"] },
    ]);
    const trades = (seq: number, ...t: Array<[string, string]>) =>
      JSON.stringify({
        channel: "market_trades",
        sequence_num: seq,
        events: [
          {
            type: "update",
            trades: t.map(([price, time]) => ({ product_id: "BTC-USD", price, size: "0.5", side: "BUY", time })),
          },
        ],
      });
    expect(c.decode(trades(0, ["100.5", "2026-11-17T15:00:00.000Z"]))).toEqual([
      { kind: "trade", symbol: "BTC-USD", price: 100.5, size: 0.5, ts: Date.parse("2026-11-17T15:00:00Z") },
    ]);
    // Snapshot order (newest first) is put oldest first.
    const sorted = c.decode(trades(1, ["102", "2026-11-17T15:00:02Z"], ["101", "2026-11-17T15:00:01Z"]));
    expect(sorted.map((e) => (e.kind === "trade" ? e.price : 0))).toEqual([101, 102]);
    const jumped = c.decode(trades(5, ["103", "2026-11-17T15:00:03Z"]));
    expect(jumped[0]).toEqual({ kind: "gap", reason: "sequence 1 → 5" });
    expect(jumped[1]).toMatchObject({ kind: "trade", price: 103 });
    // A repeated or older sequence number is dropped.
    expect(c.decode(trades(4, ["50", "2026-11-17T15:00:04Z"]))).toEqual([{ kind: "heartbeat" }]);
    expect(
      c.decode('{"channel":"heartbeats","sequence_num":6,"events":[{"current_time":"x","heartbeat_counter":3}]}'),
    ).toEqual([{ kind: "heartbeat" }]);
    expect(
      c.decode(
        '{"channel":"ticker","sequence_num":7,"timestamp":"2026-11-17T15:00:05Z","events":[{"type":"update","tickers":[{"product_id":"BTC-USD","price":"103","best_bid":"102.9","best_ask":"103.1"}]}]}',
      ),
    ).toEqual([{ kind: "quote", symbol: "BTC-USD", bid: 102.9, ask: 103.1, ts: Date.parse("2026-11-17T15:00:05Z") }]);
    expect(c.decode('{"type":"error","message":"failure to subscribe: unknown product"}')[0]).toMatchObject({
      fault: "refused-symbol",
      fatal: false,
    });
  });

  it("binance: combined-stream SUBSCRIBE with ids, USDT as USD, trade and bookTicker data", () => {
    const c = new BinanceStream({ url: "ws://127.0.0.1:9/stream" });
    expect(c.url()).toBe("ws://127.0.0.1:9/stream");
    expect(c.limits.maxConnectionMs).toBe(86_400_000);
    expect(c.subscribe(["BTC-USD", "ETH-EUR"]).map((m) => JSON.parse(m))).toEqual([
      {
        method: "SUBSCRIBE",
        params: ["btcusdt@trade", "btcusdt@bookTicker", "etheur@trade", "etheur@bookTicker"],
        id: 1,
      },
    ]);
    expect(JSON.parse(c.unsubscribe(["BTC-USD"])[0]!)).toMatchObject({ method: "UNSUBSCRIBE", id: 2 });
    expect(c.decode('{"result":null,"id":1}')).toEqual([{ kind: "subscribed", symbols: ["BTC-USD", "ETH-EUR"] }]);
    expect(c.decode('{"result":null,"id":2}')).toEqual([{ kind: "heartbeat" }]);
    expect(
      c.decode(
        '{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":9,"p":"97000.10","q":"0.002","T":' +
          T +
          ',"m":true}}',
      ),
    ).toEqual([{ kind: "trade", symbol: "BTC-USD", price: 97000.1, size: 0.002, ts: T }]);
    expect(
      c.decode('{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"96999","B":"1","a":"97001","A":"2"}}'),
    ).toEqual([{ kind: "quote", symbol: "BTC-USD", bid: 96999, ask: 97001 }]);
    c.subscribe(["NOPE-USD"]);
    expect(c.decode('{"error":{"code":2,"msg":"Invalid request: unknown stream"},"id":3}')).toEqual([
      {
        kind: "fault",
        fault: "refused-symbol",
        reason: "2 Invalid request: unknown stream",
        fatal: false,
        symbols: ["NOPE-USD"],
      },
    ]);
    expect(c.decode('{"error":{"code":3,"msg":"bad"},"id":99}')[0]).toMatchObject({ fault: "protocol" });
  });

  it("polygon: auth then T./Q. subscriptions; delayed host marks delayed; max_connections", () => {
    const c = new PolygonStream({ key: "k", url: "wss://delayed.polygon.io/stocks" });
    expect(c.delayed).toBe(true);
    expect(new PolygonStream({}).delayed).toBe(false);
    expect(c.hello()).toEqual(['{"action":"auth","params":"k"}']);
    expect(c.subscribe(["AAPL", "MSFT"])).toEqual(['{"action":"subscribe","params":"T.AAPL,Q.AAPL,T.MSFT,Q.MSFT"}']);
    expect(c.decode('[{"ev":"status","status":"auth_success","message":"authenticated"}]')).toEqual([
      { kind: "ready" },
    ]);
    expect(
      c.decode(
        `[{"ev":"T","sym":"AAPL","p":190.5,"s":10,"t":${T}},{"ev":"Q","sym":"MSFT","bp":400,"ap":400.1,"t":${T}}]`,
      ),
    ).toEqual([
      { kind: "trade", symbol: "AAPL", price: 190.5, size: 10, ts: T },
      { kind: "quote", symbol: "MSFT", bid: 400, ask: 400.1, ts: T },
    ]);
    expect(
      c.decode(
        '[{"ev":"status","status":"max_connections","message":"Maximum number of websocket connections exceeded."}]',
      )[0],
    ).toMatchObject({
      fault: "connection-limit",
      fatal: true,
    });
    expect(c.decode('[{"ev":"status","status":"auth_failed","message":"authentication failed"}]')[0]).toMatchObject({
      fault: "auth",
    });
  });

  it("garbage, truncated JSON and wrong shapes become malformed events, never throw", () => {
    for (const provider of ["finnhub", "alpaca", "coinbase", "binance", "polygon"]) {
      const c = createStreamCodec(provider, {})!;
      c.subscribe(["AAPL", "BTC-USD"]);
      for (const text of [
        "",
        "{",
        '{"type":"trade","data":[{"s":"AAPL","p":1',
        "null",
        "42",
        "[1,2]",
        '"str"',
        '{"data":{"e":"trade","s":"BTCUSDT","p":"-1"}}',
        "\u0000\uffff",
      ]) {
        const events: StreamEvent[] = c.decode(text);
        expect(events.every((e) => e.kind !== "trade" && e.kind !== "quote")).toBe(true);
      }
    }
    expect(createStreamCodec("twelvedata", {})).toBeUndefined();
  });
});

describe("coalescer", () => {
  it("a window's trades become one tick: last price, summed volume, high and low; quotes set bid/ask", () => {
    const c = new Coalescer();
    c.trade("A", 10, 1, T);
    c.trade("A", 12, 2, T + 1);
    c.trade("A", 9, 3, T + 2);
    c.trade("A", 11, 4, T + 3);
    c.quote("A", 10.9, 11.1);
    c.trade("B", 5, undefined, T);
    expect(c.drain()).toEqual([
      { symbol: "A", price: 11, ts: T + 3, volume: 10, high: 12, low: 9, bid: 10.9, ask: 11.1, trades: 4 },
      { symbol: "B", price: 5, ts: T, high: 5, low: 5, trades: 1 },
    ]);
    expect(c.drain()).toEqual([]);
    expect(c.pending).toBe(false);
  });

  it("an out-of-order trade counts toward volume and range but never moves the price backwards", () => {
    const c = new Coalescer();
    c.trade("A", 10, 1, T + 10);
    c.trade("A", 8, 1, T + 5);
    expect(c.drain()).toEqual([{ symbol: "A", price: 10, ts: T + 10, volume: 2, high: 10, low: 8, trades: 2 }]);
    // Next window: an old trade alone keeps the newest price.
    c.trade("A", 7, 1, T + 1);
    expect(c.drain()[0]).toMatchObject({ price: 10, ts: T + 10 });
  });

  it("a crossed quote is ignored; quotes before any trade wait for a price", () => {
    const c = new Coalescer();
    c.quote("A", 11, 10);
    c.quote("B", 1, 2);
    expect(c.drain()).toEqual([]);
    c.trade("B", 1.5, 1, T);
    expect(c.drain()).toEqual([
      { symbol: "B", price: 1.5, ts: T, volume: 1, high: 1.5, low: 1.5, bid: 1, ask: 2, trades: 1 },
    ]);
  });

  it("a catch-up quote is taken only when not older than what the stream brought; the gap marks one tick", () => {
    const c = new Coalescer();
    c.trade("A", 10, 1, T + 10);
    c.drain();
    c.markGap("A");
    c.catchUp({ symbol: "A", price: 9, ts: T + 5 });
    expect(c.drain()).toEqual([{ symbol: "A", price: 10, ts: T + 10, trades: 0, gap: true }]);
    c.markGap("A");
    c.catchUp({ symbol: "A", price: 12, ts: T + 20, bid: 11.9, ask: 12.1 });
    c.trade("A", 13, 1, T + 21);
    expect(c.drain()).toEqual([
      { symbol: "A", price: 13, ts: T + 21, volume: 1, high: 13, low: 13, bid: 11.9, ask: 12.1, trades: 1, gap: true },
    ]);
    // The gap went out: a catch-up arriving later is a plain tick.
    c.catchUp({ symbol: "A", price: 14, ts: T + 30 });
    expect(c.drain()).toEqual([{ symbol: "A", price: 14, ts: T + 30, trades: 0 }]);
  });

  it("500 trades a second in 50 ms windows become 20 ticks a second, ending on the last trade", () => {
    const c = new Coalescer();
    const ticks: number[] = [];
    for (let i = 0; i < 500; i++) {
      c.trade("A", 100 + i / 100, 1, T + i * 2);
      if ((i * 2) % 50 === 48) ticks.push(...c.drain().map((q) => q.price));
    }
    ticks.push(...c.drain().map((q) => q.price));
    expect(ticks.length).toBeLessThanOrEqual(20);
    expect(ticks.at(-1)).toBe(104.99);
    expect([...ticks].sort((a, b) => a - b)).toEqual(ticks);
  });
});

describe("subscription set", () => {
  it("subscribes on the first viewer, unsubscribes only after lingering, and cancels a pending leave", () => {
    const s = new SubscriptionSet(10, 1_000);
    s.want(["A", "B"], 0);
    expect(s.plan(0)).toEqual({ subscribe: ["A", "B"], unsubscribe: [], overLimit: [] });
    s.want(["A"], 100);
    expect(s.plan(500)).toEqual({ subscribe: [], unsubscribe: [], overLimit: [] });
    expect(s.nextDueAt()).toBe(1_100);
    expect(s.plan(1_100)).toEqual({ subscribe: [], unsubscribe: ["B"], overLimit: [] });
    s.want([], 2_000);
    s.want(["A"], 2_500); // back before the linger ran out
    expect(s.plan(4_000)).toEqual({ subscribe: [], unsubscribe: [], overLimit: [] });
    expect(s.streamed()).toEqual(["A"]);
  });

  it("never holds more than its limit; the rest are polled until room frees up", () => {
    const s = new SubscriptionSet(2, 0);
    s.want(["A", "B", "C"], 0);
    expect(s.plan(0)).toEqual({ subscribe: ["A", "B"], unsubscribe: [], overLimit: ["C"] });
    s.want(["B", "C"], 1);
    expect(s.plan(1)).toEqual({ subscribe: ["C"], unsubscribe: ["A"], overLimit: [] });
    expect(s.size).toBe(2);
  });

  it("refused symbols are not asked again while wanted; a reconnect resubscribes everything wanted", () => {
    const s = new SubscriptionSet(5, 1_000);
    s.want(["A", "B"], 0);
    s.plan(0);
    s.refuse(["B"]);
    expect(s.plan(1)).toEqual({ subscribe: [], unsubscribe: [], overLimit: [] });
    s.reset();
    expect(s.plan(2).subscribe).toEqual(["A"]);
    s.want(["A"], 3);
    s.want(["A", "B"], 4);
    expect(s.plan(4).subscribe).toEqual(["B"]);
  });
});

describe("upstream link", () => {
  const options: LinkOptions = {
    baseBackoffMs: 1_000,
    maxBackoffMs: 30_000,
    silenceMs: 20_000,
    connectTimeoutMs: 10_000,
    failedRetryMs: 300_000,
  };

  it("connects, authenticates, goes live; a silent live connection is replaced only while the market is open", () => {
    const link = new Link(options, () => 0.5);
    link.connecting(0);
    link.opened(10, false);
    expect(link.state).toEqual({ state: "authenticating", since: 10, attempt: 0 });
    link.ready(20);
    expect(link.state).toEqual({ state: "live", since: 20, lastMessageAt: 20 });
    link.heard(5_000);
    expect(link.check(24_999, true)).toBe("none");
    expect(link.nextCheckAt()).toBe(25_000);
    expect(link.check(25_000, false)).toBe("none");
    expect(link.check(25_000, true)).toBe("reconnect");
  });

  it("backs off exponentially with jitter up to the cap; a live connection resets the attempts", () => {
    const waits: number[] = [];
    const link = new Link(options, () => 1);
    link.connecting(0);
    for (let i = 0; i < 7; i++) {
      link.lost({ kind: "connect-failed", reason: "refused" }, 0);
      const s = link.state;
      if (s.state !== "backoff") throw new Error("expected backoff");
      waits.push(s.until);
      expect(link.check(s.until - 1, true)).toBe("none");
      expect(link.check(s.until, true)).toBe("connect");
      link.connecting(s.until);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    const jittered = new Link(options, () => 0);
    jittered.connecting(0);
    jittered.lost({ kind: "closed", reason: "x" }, 0);
    expect(jittered.state).toMatchObject({ until: 500 });
    link.opened(100, true);
    expect(link.reconnects).toBe(0);
    link.lost({ kind: "closed", reason: "1006" }, 200);
    expect(link.state).toMatchObject({ state: "backoff", attempt: 1, until: 1_200 });
    link.connecting(1_200);
    link.opened(1_300, true);
    expect(link.reconnects).toBe(1);
  });

  it("tells onReconnect each time it is live again, not the first time", () => {
    let told = 0;
    const link = new Link({ ...options, onReconnect: () => told++ }, () => 0.5);
    link.connecting(0);
    link.opened(10, true);
    expect(told).toBe(0);
    for (const at of [100, 5_000]) {
      link.lost({ kind: "closed", reason: "1006" }, at);
      link.connecting(at + 2_000);
      link.opened(at + 2_100, false);
      expect(told).toBe(at === 100 ? 0 : 1);
      link.ready(at + 2_200);
    }
    expect(told).toBe(2);
    expect(link.reconnects).toBe(2);
  });

  it("a fatal fault waits long; the cron sweep re-arms it; a stuck connect is retried", () => {
    const link = new Link(options, () => 0.5);
    link.connecting(0);
    link.failed({ kind: "auth", reason: "402 auth failed" }, 50);
    expect(link.check(100_000, true)).toBe("none");
    link.rearm(100_000);
    expect(link.check(100_000, true)).toBe("connect");
    link.connecting(100_000);
    expect(link.check(110_000, true)).toBe("reconnect");
    link.idle();
    expect(link.check(1e9, true)).toBe("none");
    expect(link.nextCheckAt()).toBeUndefined();
  });

  it("reconnects before the provider's scheduled disconnect", () => {
    const link = new Link({ ...options, maxConnectionMs: 86_400_000 }, () => 0.5);
    link.connecting(0);
    link.opened(0, true);
    link.heard(86_340_000 - 1);
    expect(link.check(86_340_000 - 1, false)).toBe("none");
    expect(link.check(86_340_000, false)).toBe("reconnect");
  });
});

describe("simulated trades", () => {
  const seed = "edge-ticker";
  // Wednesday 2026-11-18 15:00 UTC = 10:00 New York (regular hours); 03:00 New York is closed.
  const OPEN = Date.UTC(2026, 10, 18, 15);
  const CLOSED = Date.UTC(2026, 10, 18, 8);

  it("are a pure function of (seed, symbol, time): any cut of a window gives the same trades", () => {
    const whole = simTrades(seed, "AAPL", OPEN, OPEN + 10_000);
    const cut: SimTrade[] = [];
    for (let t = OPEN; t < OPEN + 10_000; t += 37)
      cut.push(...simTrades(seed, "AAPL", t, Math.min(t + 37, OPEN + 10_000)));
    expect(cut).toEqual(whole);
    expect(simTrades("other", "AAPL", OPEN, OPEN + 10_000)).not.toEqual(whole);
    expect(whole.map((t) => t.ts)).toEqual([...whole.map((t) => t.ts)].sort((a, b) => a - b));
  });

  it("a few hot symbols trade tens of times a second, the long tail every few seconds; bursty; calmer when the market is closed", () => {
    const symbols = Object.keys(SIM_START_PRICES).filter((s) => assetClass(s) === "equity");
    const rates = symbols.map((s) => simTradeRate(seed, s));
    const hot = rates.filter((r) => r >= 10).length;
    expect(hot).toBeGreaterThan(0);
    expect(hot).toBeLessThan(symbols.length * 0.2);
    expect(rates.filter((r) => r < 2).length).toBeGreaterThan(symbols.length * 0.7);
    const hottest = symbols[rates.indexOf(Math.max(...rates))]!;
    const open = simTrades(seed, hottest, OPEN, OPEN + 60_000).length / 60;
    const closed = simTrades(seed, hottest, CLOSED, CLOSED + 60_000).length / 60;
    expect(open).toBeGreaterThan(5);
    expect(closed).toBeLessThan(open / 5);
    // Bursty: per-second counts vary far more than a steady rate's would.
    const perSecond = Array.from(
      { length: 60 },
      (_, i) => simTrades(seed, hottest, OPEN + i * 1000, OPEN + (i + 1) * 1000).length,
    );
    expect(Math.max(...perSecond)).toBeGreaterThan(2 * Math.min(...perSecond) + 2);
  });

  it("prices follow from the previous one, stay positive and keep the symbol's decimals", () => {
    let price = 228.5;
    for (const t of simTrades(seed, "AAPL", OPEN, OPEN + 60_000)) {
      const next = simTradePrice(seed, "AAPL", price, t);
      expect(next).toBeGreaterThan(0);
      expect(Math.abs(next / price - 1)).toBeLessThan(0.01);
      expect(Math.round(next * 100) / 100).toBe(next);
      price = next;
    }
  });

  it("the simulator's stream codec carries trades like a provider's", () => {
    const c = createStreamCodec("sim", {})!;
    expect(c.subscribe(["AAPL"])).toEqual(['{"subscribe":["AAPL"]}']);
    expect(c.decode(`{"trades":[["AAPL",228.51,10,${OPEN}]]}`)).toEqual([
      { kind: "trade", symbol: "AAPL", price: 228.51, size: 10, ts: OPEN },
    ]);
    expect(c.decode('{"heartbeat":1}')).toEqual([{ kind: "heartbeat" }]);
    expect(c.decode('{"trades":[["AAPL",-1,1,1]]}')[0]!.kind).toBe("malformed");
  });
});

describe("rate window", () => {
  it("never more than the limit in any window; room opens as the oldest leaves it", () => {
    const w = new RateWindow(5);
    expect(w.room(0)).toBe(5);
    w.note(5, 0);
    expect(w.room(999)).toBe(0);
    expect(w.nextAt(999)).toBe(1_000);
    expect(w.room(1_000)).toBe(5);
    w.note(3, 1_000);
    w.note(2, 1_500);
    expect(w.room(1_999)).toBe(0);
    expect(w.room(2_000)).toBe(3);
    expect(w.nextAt(2_000)).toBeUndefined();
  });
});
