import { describe, expect, it } from "vitest";
import type { StreamEvent } from "../../worker/feeds/stream/codec";
import {
  AlpacaStream,
  BinanceStream,
  CoinbaseStream,
  createStreamCodec,
  FinnhubStream,
  PolygonStream,
} from "../../worker/feeds/stream/providers";
import { REGULAR, REPLAYED } from "../../worker/market/trade-conditions";

const T = 1_795_000_000_000;
const ODD_LOT = { last: "no", highLow: false, volume: true };

describe("stream codecs", () => {
  it("finnhub: token in the URL, one subscribe per symbol, trades in ms, pings, errors; never confirms", () => {
    const c = new FinnhubStream({ key: "k1", url: "ws://127.0.0.1:9/ws" });
    expect(c.url()).toBe("ws://127.0.0.1:9/ws?token=k1");
    expect([c.readyOnOpen, c.confirms, c.probes]).toEqual([true, false, false]);
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
            { s: "MSFT", p: 400.5, v: 100, t: T, c: ["1"] },
            { s: "MSFT", p: "x", t: T },
          ],
        }),
      ),
    ).toEqual([
      { kind: "trade", symbol: "MSFT", price: 400.5, size: 100, ts: T, rule: REGULAR },
      { kind: "malformed", reason: expect.any(String) },
    ]);
    expect(c.decode('{"type":"ping"}')).toEqual([{ kind: "heartbeat" }]);
    expect(c.decode('{"type":"error","msg":"Invalid API key"}')).toEqual([
      { kind: "fault", fault: "auth", reason: "Invalid API key", scope: { of: "connection" } },
    ]);
    // A trade of a symbol never subscribed (or unsubscribed) is not ours.
    expect(c.decode('{"type":"trade","data":[{"s":"AAPL","p":1,"t":1}]}')[0]!.kind).toBe("malformed");
    expect(c.probe()).toBeUndefined();
  });

  it("alpaca: authenticates, confirms with its subscription list, reads conditions by tape, refuses by code", () => {
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
    // The free plan's 30 symbols whatever the feed: a paid plan says its own (FEED_STREAM_SYMBOLS).
    expect(c.limits.symbolsPerConnection).toBe(30);
    expect([c.readyOnOpen, c.confirms, c.probes]).toEqual([false, true, true]);
    expect(c.hello()).toEqual(['{"action":"auth","key":"id","secret":"sec"}']);
    expect(c.probe()).toBeUndefined();
    expect(c.subscribe(["AAPL"])).toEqual(['{"action":"subscribe","trades":["AAPL"],"quotes":["AAPL"]}']);
    expect(c.probe()).toBe('{"action":"subscribe","trades":["AAPL"]}');
    expect(c.decode('[{"T":"success","msg":"connected"}]')).toEqual([{ kind: "heartbeat" }]);
    expect(c.decode('[{"T":"success","msg":"authenticated"}]')).toEqual([{ kind: "ready" }]);
    expect(c.decode('[{"T":"subscription","trades":["AAPL"],"quotes":["AAPL"],"bars":[]}]')).toEqual([
      { kind: "subscribed", symbols: ["AAPL"] },
    ]);
    const events = c.decode(
      JSON.stringify([
        { T: "t", S: "AAPL", p: 190.1, s: 5, t: "2026-11-17T15:00:00.123456789Z", c: ["@", "I"], z: "C" },
        { T: "t", S: "AAPL", p: 190, s: 100, t: "2026-11-17T15:00:00.2Z", c: ["@"], z: "C" },
        { T: "q", S: "AAPL", bp: 190, ap: 190.2, t: "2026-11-17T15:00:00.2Z" },
      ]),
    );
    expect(events).toEqual([
      {
        kind: "trade",
        symbol: "AAPL",
        price: 190.1,
        size: 5,
        ts: Date.parse("2026-11-17T15:00:00.123Z"),
        rule: ODD_LOT,
      },
      { kind: "trade", symbol: "AAPL", price: 190, size: 100, ts: Date.parse("2026-11-17T15:00:00.2Z"), rule: REGULAR },
      { kind: "quote", symbol: "AAPL", bid: 190, ask: 190.2, ts: Date.parse("2026-11-17T15:00:00.2Z") },
    ]);
    expect(c.decode('[{"T":"error","code":406,"msg":"connection limit exceeded"}]')).toEqual([
      {
        kind: "fault",
        fault: "connection-limit",
        reason: "406 connection limit exceeded",
        scope: { of: "connection" },
      },
    ]);
    expect(c.decode('[{"T":"error","code":402,"msg":"auth failed"}]')[0]).toMatchObject({ fault: "auth" });
    // 405 names no symbol and refuses its whole message: one symbol a message, answered in order.
    expect(c.subscribe(["MSFT", "NVDA"])).toEqual([
      '{"action":"subscribe","trades":["MSFT"],"quotes":["MSFT"]}',
      '{"action":"subscribe","trades":["NVDA"],"quotes":["NVDA"]}',
    ]);
    expect(c.decode('[{"T":"error","code":405,"msg":"symbol limit exceeded"}]')[0]).toMatchObject({
      fault: "symbol-limit",
      scope: { of: "oldest-pending" },
    });
    // Corrections and cancels of earlier trades are not applied.
    expect(c.decode('[{"T":"x","S":"AAPL","i":1,"p":190,"s":5,"a":"C","z":"C","t":"2026-11-17T15:00:01Z"}]')).toEqual([
      { kind: "heartbeat" },
    ]);
  });

  it("coinbase: channels per product, snapshot replays count no volume, -USDC answers as -USD, sequence gaps", () => {
    const c = new CoinbaseStream({});
    expect([c.confirms, c.probes]).toEqual([true, false]);
    expect(c.subscribe(["BTC-USD", "AAPL"]).map((m) => JSON.parse(m))).toEqual([
      { type: "subscribe", channel: "market_trades", product_ids: ["BTC-USD"] },
      { type: "subscribe", channel: "ticker", product_ids: ["BTC-USD"] },
      { type: "subscribe", channel: "heartbeats", product_ids: ["BTC-USD"] },
    ]);
    // BTC-USDC is one book with BTC-USD: nothing more to subscribe, and it gets the same trades.
    expect(c.subscribe(["BTC-USDC"])).toEqual([]);
    // Heartbeats once per connection: later products take two messages.
    expect(c.subscribe(["SOL-USD"]).map((m) => JSON.parse(m).channel)).toEqual(["market_trades", "ticker"]);
    c.unsubscribe(["SOL-USD"]);
    expect(c.providerSymbol("USDT-USDC")).toBe("USDT-USDC");
    const trades = (seq: number, type: string, ...t: Array<[string, string]>) =>
      JSON.stringify({
        channel: "market_trades",
        sequence_num: seq,
        events: [
          {
            type,
            trades: t.map(([price, time]) => ({ product_id: "BTC-USD", price, size: "0.5", side: "BUY", time })),
          },
        ],
      });
    const snapshot = c.decode(trades(0, "snapshot", ["102", "2026-11-17T15:00:02Z"], ["101", "2026-11-17T15:00:01Z"]));
    // Oldest first, each for both symbols, replayed: a price, never volume.
    expect(snapshot.map((e) => (e.kind === "trade" ? [e.symbol, e.price, e.rule] : e.kind))).toEqual([
      ["BTC-USD", 101, REPLAYED],
      ["BTC-USDC", 101, REPLAYED],
      ["BTC-USD", 102, REPLAYED],
      ["BTC-USDC", 102, REPLAYED],
    ]);
    expect(c.decode(trades(1, "update", ["100.5", "2026-11-17T15:00:03.000Z"]))[0]).toEqual({
      kind: "trade",
      symbol: "BTC-USD",
      price: 100.5,
      size: 0.5,
      ts: Date.parse("2026-11-17T15:00:03Z"),
      rule: REGULAR,
    });
    const jumped = c.decode(trades(5, "update", ["103", "2026-11-17T15:00:04Z"]));
    expect(jumped[0]).toEqual({ kind: "gap", reason: "sequence 1 → 5" });
    expect(jumped[1]).toMatchObject({ kind: "trade", price: 103 });
    // A repeated or older sequence number is dropped.
    expect(c.decode(trades(4, "update", ["50", "2026-11-17T15:00:04Z"]))).toEqual([{ kind: "heartbeat" }]);
    expect(
      c.decode('{"channel":"heartbeats","sequence_num":6,"events":[{"current_time":"x","heartbeat_counter":3}]}'),
    ).toEqual([{ kind: "heartbeat" }]);
    expect(
      c.decode(
        '{"channel":"subscriptions","sequence_num":7,"events":[{"subscriptions":{"market_trades":["BTC-USD"],"ticker":["BTC-USD"]}}]}',
      ),
    ).toEqual([{ kind: "subscribed", symbols: ["BTC-USD", "BTC-USDC"] }]);
    // Unsubscribing one of two symbols on a book keeps the book.
    expect(c.unsubscribe(["BTC-USDC"])).toEqual([]);
    expect(c.unsubscribe(["BTC-USD"]).length).toBe(2);
    expect(c.decode('{"type":"error","message":"failure to subscribe: unknown product"}')[0]).toMatchObject({
      fault: "refused-symbol",
      scope: { of: "pending" },
    });
    // A refusal naming its product refuses it; the rest of its message is asked for again.
    c.subscribe(["ETH-USD", "NOPE-USD", "BTC-USDT"]);
    expect(
      c.decode('{"type":"error","message":"Failed to subscribe","reason":"NOPE-USD is not a valid product"}')[0],
    ).toEqual({
      kind: "fault",
      fault: "refused-symbol",
      reason: "Failed to subscribe: NOPE-USD is not a valid product",
      scope: { of: "symbols", symbols: ["NOPE-USD"], retry: ["ETH-USD", "BTC-USDT"] },
    });
  });

  it("binance: SUBSCRIBE with ids, acknowledgements prove nothing, two symbols on one pair both get it", () => {
    const c = new BinanceStream({ url: "ws://127.0.0.1:9/stream" });
    expect(c.url()).toBe("ws://127.0.0.1:9/stream");
    expect(c.limits.maxConnectionMs).toBe(86_400_000);
    expect([c.confirms, c.probes]).toEqual([false, true]);
    expect(c.subscribe(["BTC-USD", "ETH-EUR"]).map((m) => JSON.parse(m))).toEqual([
      {
        method: "SUBSCRIBE",
        params: ["btcusdt@trade", "btcusdt@bookTicker", "etheur@trade", "etheur@bookTicker"],
        id: 1,
      },
    ]);
    // BTC-USDT trades as the same pair: no second subscription, no merging either.
    expect(c.subscribe(["BTC-USDT"])).toEqual([]);
    expect(c.decode('{"result":null,"id":1}')).toEqual([{ kind: "heartbeat" }]);
    const trade = c.decode(
      `{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":9,"p":"97000.10","q":"0.002","T":${T},"m":true}}`,
    );
    expect(trade).toEqual([
      { kind: "trade", symbol: "BTC-USD", price: 97000.1, size: 0.002, ts: T, rule: REGULAR },
      { kind: "trade", symbol: "BTC-USDT", price: 97000.1, size: 0.002, ts: T, rule: REGULAR },
    ]);
    // Unsubscribing one of them keeps the pair for the other.
    expect(c.unsubscribe(["BTC-USD"])).toEqual([]);
    expect(
      c.decode('{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"96999","B":"1","a":"97001","A":"2"}}'),
    ).toEqual([{ kind: "quote", symbol: "BTC-USDT", bid: 96999, ask: 97001 }]);
    expect(JSON.parse(c.unsubscribe(["BTC-USDT"])[0]!)).toMatchObject({ method: "UNSUBSCRIBE", id: 2 });
    c.subscribe(["NOPE-USD", "SOL-USD"]);
    // The request fails as a whole; its message names the stream: that pair is refused, the other asked for again.
    expect(c.decode('{"error":{"code":2,"msg":"Invalid request: nopeusdt@trade"},"id":3}')).toEqual([
      {
        kind: "fault",
        fault: "refused-symbol",
        reason: "2 Invalid request: nopeusdt@trade",
        scope: { of: "symbols", symbols: ["NOPE-USD"], retry: ["SOL-USD"] },
      },
    ]);
    expect(c.decode('{"error":{"code":3,"msg":"bad"},"id":99}')[0]).toMatchObject({ fault: "protocol" });
    expect(JSON.parse(c.probe())).toEqual({ method: "LIST_SUBSCRIPTIONS", id: 4 });
    expect(c.decode('{"result":["etheur@trade"],"id":4}')).toEqual([{ kind: "heartbeat" }]);
  });

  it("polygon: auth, T./Q. subscriptions confirmed per symbol, conditions by id; delayed host; max_connections", () => {
    const c = new PolygonStream({ key: "k", url: "wss://delayed.polygon.io/stocks" });
    expect(c.delayed).toBe(true);
    expect(new PolygonStream({}).delayed).toBe(false);
    expect([c.confirms, c.probes]).toEqual([true, true]);
    expect(c.hello()).toEqual(['{"action":"auth","params":"k"}']);
    expect(c.subscribe(["AAPL", "MSFT"])).toEqual(['{"action":"subscribe","params":"T.AAPL,Q.AAPL,T.MSFT,Q.MSFT"}']);
    expect(c.probe()).toBe('{"action":"subscribe","params":"T.AAPL"}');
    expect(c.decode('[{"ev":"status","status":"auth_success","message":"authenticated"}]')).toEqual([
      { kind: "ready" },
    ]);
    expect(
      c.decode(
        '[{"ev":"status","status":"success","message":"subscribed to: T.AAPL"},{"ev":"status","status":"success","message":"subscribed to: Q.AAPL"}]',
      ),
    ).toEqual([{ kind: "subscribed", symbols: ["AAPL"] }, { kind: "heartbeat" }]);
    expect(
      c.decode(
        `[{"ev":"T","sym":"AAPL","p":190.5,"s":10,"t":${T},"c":[37]},{"ev":"Q","sym":"MSFT","bp":400,"ap":400.1,"t":${T}}]`,
      ),
    ).toEqual([
      { kind: "trade", symbol: "AAPL", price: 190.5, size: 10, ts: T, rule: ODD_LOT },
      { kind: "quote", symbol: "MSFT", bid: 400, ask: 400.1, ts: T },
    ]);
    expect(
      c.decode(
        '[{"ev":"status","status":"max_connections","message":"Maximum number of websocket connections exceeded."}]',
      )[0],
    ).toMatchObject({ fault: "connection-limit", scope: { of: "connection" } });
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
