/**
 * Streaming ingestion end to end: the worker (FEED_TRANSPORT=auto) opens the provider's
 * WebSocket (a fake on 127.0.0.1 speaking Finnhub's, Coinbase's, Alpaca's or Binance's
 * documented protocol, reached through FEED_STREAM_URL; REST goes to the same fake through
 * FEED_BASE_URL; test/support/fakes),
 * and unmodified stompjs clients get its trades. Covers: subscribe on the first viewer and
 * unsubscribe soon after the last, order, a forced close (reconnect, resubscribe, a REST
 * quote, a tick marked as following a gap), bad credentials (a fault in /healthz, polling
 * takes over), a silent-but-open upstream replaced, garbage never a price, and a 500 trades/s
 * burst coalesced to at most 1000/STREAM_BATCH_MS ticks a second, ending on the last trade.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { SIM_START_PRICES } from "../../worker/feeds/sim-universe";
import { simTradeRate } from "../../worker/feeds/stream/sim-stream";
import type { StreamStatus } from "../../worker/objects/upstream-stream";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type FakeProvider, GOOD_KEY, GOOD_SECRET, type ProviderName, startFakeProvider } from "../support/fakes";
import { Collector, type Connected, connectStomp, sleep } from "../support/stomp";

const BATCH_MS = 50;

async function streams(baseUrl: string): Promise<StreamStatus[]> {
  const res = await fetch(`${baseUrl}/healthz`, { headers: { Authorization: "Bearer test-publish-token" } });
  return ((await res.json()) as { streams: StreamStatus[] }).streams;
}

async function until<T>(
  what: string,
  read: () => T | Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

/** What a streamed tick traded: `size`, or `volume` where a tick has no size (its older meaning on streamed ticks). */
const sizeOf = (t: { size?: number; volume?: number }) => t.size ?? t.volume;

/** The price every listed symbol last traded at before the test. */
const PRICE = 123.45;

interface Upstream {
  fake: FakeProvider;
  srv: DevServer;
  client: Connected;
  /** The provider's symbols subscribed on its open connections. */
  subscribed(): Set<string>;
  /** Every message the worker sent the provider, parsed. */
  sent(since?: number): unknown[];
  /** REST requests so far. */
  requests(): FakeProvider["rest"]["requests"];
}

/** For one describe block: a fake provider (REST and stream) on 127.0.0.1 listing `symbols`, Edge Ticker on it, a connected client. */
function withUpstream(
  provider: ProviderName,
  symbols: string[],
  extra: Record<string, string> = {},
  options: { delayed?: boolean } = {},
): Upstream {
  const t = {} as Upstream;
  beforeAll(async () => {
    t.fake = await startFakeProvider(provider, { stream: { appPingMs: 500 }, delayed: options.delayed });
    for (const s of symbols) t.fake.market.list(s, { last: PRICE, prevClose: 122, volume: 1_000 });
    t.subscribed = () => t.fake.stream.subscribed();
    t.sent = (since = 0) =>
      t.fake.stream.truth.received.filter((m) => m.at >= since).map((m) => JSON.parse(m.text) as unknown);
    t.requests = () => t.fake.rest.requests;
    t.srv = await startDevServer({
      vars: {
        ...t.fake.vars,
        FEED_TIMEOUT_MS: "1000",
        FEED_RETRIES: "0",
        TICK_INTERVAL_MS: "250",
        STREAM_BATCH_MS: String(BATCH_MS),
        ...extra,
      },
    });
    t.client = await connectStomp(t.srv.url);
  });
  afterAll(async () => {
    await t.client?.disconnect();
    await t.srv?.stop();
    await t.fake?.close();
  });
  return t;
}

describe("finnhub stream", () => {
  const t = withUpstream("finnhub", ["AAPL", "MSFT"]);

  let aapl: Collector;
  let price = PRICE;

  it("subscribes upstream on the first viewer; trades reach subscribers in order, coalesced", async () => {
    aapl = new Collector(t.client.client, "/topic/ticker.AAPL");
    await aapl.waitFor(1); // the snapshot: the first quote over REST
    await until(
      "AAPL subscribed upstream",
      () => t.subscribed(),
      (s) => s.has("AAPL"),
    );
    expect(t.sent()).toContainEqual({ type: "subscribe", symbol: "AAPL" });
    const before = aapl.messages.length;
    const started = Date.now();
    const sent: number[] = [];
    for (let i = 0; i < 30; i++) {
      price = Math.round((PRICE + 1 + i / 100) * 100) / 100;
      sent.push(price);
      t.fake.market.trade("AAPL", price, 10);
      await sleep(10);
    }
    await until(
      "the last trade",
      () => aapl.ticks.at(-1)?.price,
      (p) => p === price,
    );
    const streamed = aapl.ticks.slice(before);
    const elapsed = Date.now() - started;
    // In order: each tick's price is a later trade than the one before, seq strictly increasing.
    const positions = streamed.map((t) => sent.indexOf(t.price));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (let i = 1; i < streamed.length; i++) expect(streamed[i]!.seq).toBe(streamed[i - 1]!.seq + 1);
    expect(streamed[0]).toEqual(expect.objectContaining({ symbol: "AAPL", source: "finnhub" }));
    // 30 trades over ~0.4 s: coalesced into windows, not one tick each.
    expect(streamed.length).toBeLessThanOrEqual(Math.ceil(elapsed / BATCH_MS) + 2);
    // The sizes traded in each window (`size`; `volume` where a tick has no size).
    expect(streamed.reduce((n, t) => n + (sizeOf(t) ?? 0), 0)).toBe(300);
    const [status] = await streams(t.srv.url);
    expect(status).toEqual(expect.objectContaining({ provider: "finnhub", state: "live", subscribed: 1, streamed: 1 }));
  });

  it("a forced close: reconnects, resubscribes, takes one REST quote, and says the next tick follows a gap", async () => {
    const restBefore = t.requests().filter((r) => r.query.get("symbol") === "AAPL").length;
    const connectionsBefore = t.fake.stream.truth.connections.length;
    const ticksBefore = aapl.messages.length;
    t.fake.stream.closeAll();
    await until(
      "a new connection with AAPL",
      () => t.fake.stream.truth.connections.length > connectionsBefore && t.subscribed().has("AAPL"),
      (v) => v,
      15_000,
    );
    await until(
      "a REST quote of AAPL",
      () => t.requests().filter((r) => r.query.get("symbol") === "AAPL").length,
      (n) => n > restBefore,
    );
    price = Math.round((price + 1) * 100) / 100;
    t.fake.market.trade("AAPL", price, 5);
    await until(
      "the trade after reconnecting",
      () => aapl.ticks.at(-1)?.price,
      (p) => p === price,
    );
    const after = aapl.ticks.slice(ticksBefore);
    // The stream's first tick after the outage says so (polled ticks in between are REST prices, not silent).
    const firstStreamed = after.find((t) => t.gap === true);
    expect(firstStreamed, JSON.stringify(after)).toBeDefined();
    expect(after.filter((t) => t.gap === true)).toHaveLength(1);
    const [status] = await streams(t.srv.url);
    expect(status!.reconnects).toBeGreaterThanOrEqual(1);
    expect(status!.state).toBe("live");
    // GET /metrics carries the stream object's figures too.
    const metrics = await (
      await fetch(`${t.srv.url}/metrics`, { headers: { Authorization: "Bearer test-metrics-token" } })
    ).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{[^}]*object="stream:0"[^}]*\\} (\\S+)$`, "m").exec(metrics)?.[1]);
    expect(value("edge_ticker_upstream_reconnects_total")).toBe(status!.reconnects);
    expect(value("edge_ticker_upstream_ticks_total")).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^edge_ticker_upstream_stream_state\{[^}]*state="live"[^}]*\} 1$/m);
  });

  it("unsubscribes upstream within about 2 s after the last viewer leaves", async () => {
    aapl.subscription.unsubscribe();
    const left = Date.now();
    const msg = await until(
      "UNSUBSCRIBE upstream",
      () => t.fake.stream.truth.received.find((m) => m.at >= left && JSON.parse(m.text).type === "unsubscribe"),
      (m) => m !== undefined,
      5_000,
    );
    expect(JSON.parse(msg!.text)).toEqual({ type: "unsubscribe", symbol: "AAPL" });
    expect(msg!.at - left).toBeLessThanOrEqual(2_500);
  });

  it("bad credentials: a fault in /healthz, and polling takes over", async () => {
    // The key is revoked on the stream (REST still answers: polling takes over).
    t.fake.stream.credentials.delete(GOOD_KEY);
    t.fake.stream.closeAll();
    const msft = new Collector(t.client.client, "/topic/ticker.MSFT");
    await msft.waitFor(1);
    const status = await until(
      "an auth fault",
      () => streams(t.srv.url),
      (s) => s[0]?.state === "failed",
      15_000,
    );
    expect(status[0]!.fault).toEqual({ kind: "auth", reason: "Invalid API key" });
    // The public view names the fault's kind, not the provider's words.
    const open = (await (await fetch(`${t.srv.url}/healthz`)).json()) as {
      streams: Array<{ state: string; fault: string }>;
    };
    expect(open.streams[0]).toEqual(expect.objectContaining({ state: "failed", fault: "auth" }));
    // Polled within the budget: fresh REST ticks keep coming.
    const polled = t.requests().filter((r) => r.query.get("symbol") === "MSFT").length;
    await msft.waitFor(3, 15_000);
    expect(t.requests().filter((r) => r.query.get("symbol") === "MSFT").length).toBeGreaterThan(polled);
    expect(msft.ticks.at(-1)).toEqual(expect.objectContaining({ symbol: "MSFT", price: PRICE, source: "finnhub" }));
    msft.subscription.unsubscribe();
  });
});

describe("coinbase stream", () => {
  const t = withUpstream("coinbase", ["BTC-USD"], { STREAM_SILENCE_MS: "2000" });

  let btc: Collector;

  it("a silent-but-open upstream is detected and replaced", async () => {
    btc = new Collector(t.client.client, "/topic/ticker.BTC-USD");
    await btc.waitFor(1);
    await until(
      "BTC-USD subscribed upstream",
      () => t.subscribed(),
      (s) => s.has("BTC-USD"),
    );
    const connections = t.fake.stream.truth.connections.length;
    // Mute: no trades, no heartbeats, the socket stays open.
    t.fake.stream.behaviour.muted = true;
    const silentAt = Date.now();
    await until(
      "a new connection",
      () => t.fake.stream.truth.connections.length,
      (n) => n > connections,
      10_000,
    );
    t.fake.stream.behaviour.muted = false;
    expect(Date.now() - silentAt).toBeGreaterThanOrEqual(1_500);
    await until(
      "BTC-USD subscribed again",
      () => t.subscribed(),
      (s) => s.has("BTC-USD"),
    );
    const status = await until(
      "live again",
      () => streams(t.srv.url),
      (s) => s[0]?.state === "live",
    );
    expect(status[0]!.reconnects).toBeGreaterThanOrEqual(1);
    t.fake.market.trade("BTC-USD", 130, 1);
    await until(
      "a trade after the replacement",
      () => btc.ticks.at(-1)?.price,
      (p) => p === 130,
    );
  });

  it("garbage, truncated JSON and old sequence numbers never become a price", async () => {
    // The replacement connection has carried a numbered message (the last price may have come
    // from a REST poll meanwhile): a sequence number below it is old to that connection.
    const delivered = t.fake.stream.truth.delivered.length;
    t.fake.market.trade("BTC-USD", 130.5, 1);
    await until(
      "a trade over the replacement connection",
      () => t.fake.stream.truth.delivered.length,
      (n) => n > delivered,
    );
    await until(
      "that trade shown",
      () => btc.ticks.at(-1)?.price,
      (p) => p === 130.5,
    );
    const before = btc.messages.length;
    t.fake.stream.raw("not json at all");
    t.fake.stream.raw(
      '{"channel":"market_trades","sequence_num":99999,"events":[{"type":"update","trades":[{"product_id":"BTC-USD","price":"1',
    );
    t.fake.stream.raw(
      JSON.stringify({
        channel: "market_trades",
        sequence_num: 0,
        events: [
          {
            type: "update",
            trades: [{ product_id: "BTC-USD", price: "1", size: "1", time: new Date().toISOString() }],
          },
        ],
      }),
    );
    t.fake.market.trade("BTC-USD", 131, 1);
    await until(
      "the next good trade",
      () => btc.ticks.at(-1)?.price,
      (p) => p === 131,
    );
    // Only good prices: the next trade's, and the last one's again if the replacement's catch-up
    // (its day figure, once the request budget has room) comes in meanwhile.
    expect(
      btc.ticks
        .slice(before)
        .map((t) => t.price)
        .filter((p) => p !== 130.5),
    ).toEqual([131]);
    const [status] = await streams(t.srv.url);
    expect(status!.malformed).toBeGreaterThanOrEqual(2);
    expect(status!.state).toBe("live");
  });

  it("500 trades a second on one symbol reach clients as at most 1000/STREAM_BATCH_MS ticks a second, in order, ending on the last trade", async () => {
    const before = btc.messages.length;
    const started = Date.now();
    let last = 0;
    // 5 trades every 10 ms for 2 s.
    for (let i = 0; i < 200; i++) {
      for (let j = 0; j < 5; j++) {
        last = Math.round((140 + (i * 5 + j) / 1000) * 1000) / 1000;
        t.fake.market.trade("BTC-USD", last, 0.01);
      }
      await sleep(10);
    }
    const sentFor = Date.now() - started;
    await until(
      "the last trade",
      () => btc.ticks.at(-1)?.price,
      (p) => p === last,
    );
    const arrived = btc.messages.slice(before);
    const prices = arrived.map((m) => (JSON.parse(m.body) as { price: number }).price);
    expect([...prices].sort((a, b) => a - b)).toEqual(prices);
    expect(prices.at(-1)).toBe(last);
    // At most one tick per window (+1 for the window the burst ends in).
    expect(prices.length).toBeLessThanOrEqual(Math.ceil(sentFor / BATCH_MS) + 2);
    // Not one tick for the whole burst either: windows keep flowing while it lasts.
    expect(prices.length).toBeGreaterThanOrEqual(5);
    // Every trade's size is in exactly one tick.
    const sizes = arrived.reduce((n, m) => n + (sizeOf(JSON.parse(m.body)) ?? 0), 0);
    expect(sizes).toBeCloseTo(10, 5);
  });
});

describe("alpaca delayed_sip stream", () => {
  const t = withUpstream("alpaca", ["AAPL"], {}, { delayed: true });

  it("authenticates, subscribes trades and quotes, and marks the provider's delayed ticks delayed", async () => {
    const aapl = new Collector(t.client.client, "/topic/ticker.AAPL");
    await aapl.waitFor(1);
    await until(
      "AAPL subscribed upstream",
      () => t.subscribed(),
      (s) => s.has("AAPL"),
    );
    const sent = t.sent();
    expect(sent[0]).toEqual({ action: "auth", key: GOOD_KEY, secret: GOOD_SECRET });
    expect(sent).toContainEqual({ action: "subscribe", trades: ["AAPL"], quotes: ["AAPL"] });
    t.fake.stream.quote("AAPL", 125.1, 125.3);
    const { ts } = t.fake.market.trade("AAPL", 125.2, 7);
    expect(Date.now() - ts).toBeGreaterThanOrEqual(900_000);
    const tick = (await until(
      "the trade",
      () => aapl.ticks.at(-1),
      (t) => t?.price === 125.2,
    ))!;
    expect(tick).toEqual(
      expect.objectContaining({
        source: "alpaca",
        ts,
        bid: 125.1,
        ask: 125.3,
        delayed: true,
        delayMs: 900_000,
      }),
    );
    expect(sizeOf(tick)).toBe(7);
    const [status] = await streams(t.srv.url);
    expect(status).toEqual(expect.objectContaining({ provider: "alpaca", state: "live", delayed: true }));
  });

  it("Alpaca's connection-limit error: a fault in /healthz, and polling takes over", async () => {
    // Another connection takes the key (Alpaca allows one) as soon as the worker's drops: the worker's next one is refused with 406.
    t.fake.stream.closeAll();
    const holder = new WebSocket(t.fake.vars.FEED_STREAM_URL!.replace("{feed}", "delayed_sip"));
    const answers: string[] = [];
    holder.on("message", (m) => answers.push(String(m)));
    await new Promise((r) => holder.once("open", r));
    holder.send(JSON.stringify({ action: "auth", key: GOOD_KEY, secret: GOOD_SECRET }));
    await until(
      "the other connection authenticated",
      () => answers,
      (a) => a.some((m) => m.includes("authenticated")),
    );
    const status = await until(
      "a connection-limit fault",
      () => streams(t.srv.url),
      (s) => s[0]?.state === "failed",
      15_000,
    );
    expect(status[0]!.fault).toEqual({ kind: "connection-limit", reason: "406 connection limit exceeded" });
    const polled = t.requests().filter((r) => r.path === "/v2/stocks/snapshots").length;
    await until(
      "REST snapshots",
      () => t.requests().filter((r) => r.path === "/v2/stocks/snapshots").length,
      (n) => n > polled,
      10_000,
    );
    holder.terminate();
  });
});

describe("binance combined stream", () => {
  const t = withUpstream("binance", [
    "ETHUSDT",
    ...["BTC", "SOL", "XRP", "ADA", "DOGE", "DOT", "LINK", "LTC", "BCH", "TRX", "XLM", "ATOM"].map((b) => `${b}USDT`),
  ]);

  it("subscribes the pair's trade and bookTicker streams and carries trades as USD", async () => {
    const eth = new Collector(t.client.client, "/topic/ticker.ETH-USD");
    await eth.waitFor(1);
    await until(
      "ETHUSDT subscribed upstream",
      () => t.subscribed(),
      (s) => s.has("ETHUSDT"),
    );
    expect(t.sent()).toContainEqual({
      method: "SUBSCRIBE",
      params: ["ethusdt@trade", "ethusdt@bookTicker"],
      id: 1,
    });
    t.fake.stream.quote("ETHUSDT", 3000.5, 3001);
    const { ts } = t.fake.market.trade("ETHUSDT", 3000.75, 0.5);
    const tick = (await until(
      "the trade",
      () => eth.ticks.at(-1),
      (t) => t?.price === 3000.75,
    ))!;
    expect(tick).toEqual(expect.objectContaining({ symbol: "ETH-USD", source: "binance", ts, bid: 3000.5, ask: 3001 }));
    expect(sizeOf(tick)).toBe(0.5);
    eth.subscription.unsubscribe();
    const left = Date.now();
    const msg = await until(
      "UNSUBSCRIBE",
      () => t.fake.stream.truth.received.find((m) => m.at >= left && JSON.parse(m.text).method === "UNSUBSCRIBE"),
      (m) => m !== undefined,
      5_000,
    );
    expect(JSON.parse(msg!.text).params).toEqual(["ethusdt@trade", "ethusdt@bookTicker"]);
    // Nothing wanted any more: the upstream connection closes (an outbound socket keeps the object in memory).
    await until(
      "idle",
      () => streams(t.srv.url),
      (s) => s[0]?.state === "idle",
      5_000,
    );
  });

  it("keeps within Binance's 5 messages a second while viewers come one after another", async () => {
    const pairs = ["BTC", "SOL", "XRP", "ADA", "DOGE", "DOT", "LINK", "LTC", "BCH", "TRX", "XLM", "ATOM"].map(
      (b) => `${b}-USD`,
    );
    const started = Date.now();
    const cols: Collector[] = [];
    for (const p of pairs) {
      cols.push(new Collector(t.client.client, `/topic/ticker.${p}`));
      await sleep(100);
    }
    await Promise.all(cols.map((c) => c.waitFor(1)));
    await until(
      "every pair subscribed upstream",
      () => t.subscribed().size,
      (n) => n === pairs.length,
      15_000,
    );
    const sent = t.fake.stream.truth.received.filter((m) => m.at >= started).map((m) => m.at);
    expect(sent.length).toBeGreaterThan(0);
    // Any one-second window: at most 5 messages (the connection's first second included).
    for (const at of sent)
      expect(sent.filter((t) => t >= at && t < at + 1_000).length, `from ${at - started} ms`).toBeLessThanOrEqual(5);
    for (const c of cols) c.subscription.unsubscribe();
  });
});

describe("the simulator streams (FEED_TRANSPORT=stream)", () => {
  let srv: DevServer;
  let client: Connected;
  beforeAll(async () => {
    srv = await startDevServer({
      vars: { FEED_PROVIDER: "sim", FEED_TRANSPORT: "stream", STREAM_BATCH_MS: String(BATCH_MS) },
    });
    client = await connectStomp(srv.url);
  });
  afterAll(async () => {
    await client?.disconnect();
    await srv?.stop();
  });

  it("its trades take the stream's path: coalesced ticks at irregular moments, not polled rounds", async () => {
    // The busiest crypto pair (always trading) for the default seed.
    const pairs = Object.keys(SIM_START_PRICES).filter((s) => s.endsWith("-USD"));
    const symbol = pairs.reduce((a, b) => (simTradeRate("edge-ticker", a) >= simTradeRate("edge-ticker", b) ? a : b));
    const col = new Collector(client.client, `/topic/ticker.${symbol}`);
    await col.waitFor(1);
    await col.waitFor(6, 20_000);
    const streamed = col.ticks.slice(1);
    for (const t of streamed) expect(t).toEqual(expect.objectContaining({ symbol, source: "sim" }));
    for (let i = 1; i < streamed.length; i++) expect(streamed[i]!.ts).toBeGreaterThanOrEqual(streamed[i - 1]!.ts);
    // Trade times, not polling rounds: the ticks' times are irregular and closer than a round (TICK_INTERVAL_MS, 1 s) apart.
    const gaps = streamed.slice(1).map((t, i) => t.ts - streamed[i]!.ts);
    expect(new Set(gaps).size).toBeGreaterThan(1);
    expect(Math.min(...gaps)).toBeLessThan(1_000);
    const [status] = await streams(srv.url);
    expect(status).toEqual(expect.objectContaining({ provider: "sim", state: "live", streamed: 1 }));
    const open = (await (await fetch(`${srv.url}/healthz`)).json()) as { transport: string };
    expect(open.transport).toBe("stream");
  });
});
