/**
 * The provider fakes speak their documented protocols (test/fixtures/providers): a plain
 * `ws` client walks each one through welcome, authentication, subscription, trades,
 * refusals and its connection limit, and reads its REST answers. The fakes' truth (day
 * volume, last price by the tape's rules, rolling 24-hour volume) is checked here too.
 */
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { clockStartingAt } from "../support/clock";
import { type FakeProvider, GOOD_KEY, GOOD_SECRET, type ProviderName, startFakeProvider } from "../support/fakes";

const NOON = Date.parse("2026-11-18T17:00:00Z");
let fake: FakeProvider | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await fake?.close();
  fake = undefined;
});

async function start(name: ProviderName, delayed = false): Promise<FakeProvider> {
  fake = await startFakeProvider(name, { clock: clockStartingAt(NOON), delayed });
  fake.market.list(name === "binance" ? "BTCUSDT" : name === "coinbase" ? "BTC-USD" : "AAPL", {
    last: 190,
    open: 188,
    prevClose: 187,
    volume: 250_000,
    volume24h: 900_000,
    prevVolume: 600_000,
  });
  return fake;
}

/** A client that keeps every message it got, parsed. */
async function client(url: string): Promise<{ ws: WebSocket; got: unknown[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const got: unknown[] = [];
  ws.on("message", (d) => got.push(JSON.parse(String(d))));
  const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
  await new Promise((res, rej) => {
    ws.once("open", res);
    ws.once("error", rej);
  });
  return { ws, got, closed };
}

const until = async (ok: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

describe("alpaca", () => {
  it("connected → auth → subscription; trades with UTP conditions and ns stamps; 405, 406, 402", async () => {
    const f = await start("alpaca");
    const url = f.vars.FEED_STREAM_URL!.replace("{feed}", "sip");
    const a = await client(url);
    await until(() => a.got.length === 1);
    expect(a.got[0]).toEqual([{ T: "success", msg: "connected" }]);
    a.ws.send(JSON.stringify({ action: "subscribe", trades: ["AAPL"] }));
    a.ws.send(JSON.stringify({ action: "auth", key: GOOD_KEY, secret: GOOD_SECRET }));
    a.ws.send(JSON.stringify({ action: "subscribe", trades: ["AAPL"], quotes: ["AAPL"] }));
    await until(() => a.got.length === 4);
    expect(a.got[1]).toEqual([{ T: "error", code: 401, msg: "not authenticated" }]);
    expect(a.got[2]).toEqual([{ T: "success", msg: "authenticated" }]);
    expect(a.got[3]).toEqual([expect.objectContaining({ T: "subscription", trades: ["AAPL"], quotes: ["AAPL"] })]);
    f.market.trade("AAPL", 190.5, 37, "odd-lot");
    await until(() => a.got.length === 5);
    const [trade] = a.got[4] as Array<Record<string, unknown>>;
    expect(trade).toEqual(expect.objectContaining({ T: "t", S: "AAPL", p: 190.5, s: 37, c: ["@", "I"], z: "C" }));
    expect(trade!.t).toMatch(/^2026-11-18T17:00:\d\d\.\d{9}Z$/);
    // The last price ignores the odd lot; the day's volume counts it.
    expect(f.market.last("AAPL").price).toBe(190);
    expect(f.market.dayVolume("AAPL")).toBe(250_037);
    // A second connection for the key: 406, closed.
    const b = await client(url);
    b.ws.send(JSON.stringify({ action: "auth", key: GOOD_KEY, secret: GOOD_SECRET }));
    await until(() => b.got.length === 2);
    expect(b.got[1]).toEqual([{ T: "error", code: 406, msg: "connection limit exceeded" }]);
    expect(await b.closed).toBe(1008);
    expect(f.stream.truth.secondConnections).toHaveLength(1);
    // A refused symbol: the whole subscribe is refused with 405, naming nothing.
    f.stream.behaviour.refused.add("MSFT");
    a.ws.send(JSON.stringify({ action: "subscribe", trades: ["MSFT", "IBM"] }));
    await until(() => a.got.length === 6);
    expect(a.got[5]).toEqual([{ T: "error", code: 405, msg: "symbol limit exceeded" }]);
    expect(f.stream.subscribed()).toEqual(new Set(["AAPL"]));
    const bad = await client(url);
    bad.ws.send(JSON.stringify({ action: "auth", key: GOOD_KEY, secret: "nope" }));
    await until(() => bad.got.length === 2);
    expect(bad.got[1]).toEqual([{ T: "error", code: 402, msg: "auth failed" }]);
  });

  it("the Basic plan: sip is refused (409), delayed_sip stamps trades 15 minutes early; REST snapshots carry the day's running volume", async () => {
    const f = await startFakeProvider("alpaca", { clock: clockStartingAt(NOON), delayed: true });
    fake = f;
    f.market.list("AAPL", { last: 190, volume: 250_000 });
    const sip = await client(f.vars.FEED_STREAM_URL!.replace("{feed}", "sip"));
    sip.ws.send(JSON.stringify({ action: "auth", key: GOOD_KEY, secret: GOOD_SECRET }));
    await until(() => sip.got.length === 2);
    expect(sip.got[1]).toEqual([{ T: "error", code: 409, msg: "insufficient subscription" }]);
    const d = await client(f.vars.FEED_STREAM_URL!.replace("{feed}", "delayed_sip"));
    d.ws.send(JSON.stringify({ action: "auth", key: GOOD_KEY, secret: GOOD_SECRET }));
    d.ws.send(JSON.stringify({ action: "subscribe", trades: ["AAPL"] }));
    await until(() => d.got.length === 3);
    const t = f.market.trade("AAPL", 191, 100);
    expect(t.publishedAt - t.ts).toBe(900_000);
    await until(() => d.got.length === 4);
    expect(Date.parse((d.got[3] as Array<{ t: string }>)[0]!.t)).toBe(t.ts);
    const res = await fetch(`${f.rest.url}/v2/stocks/snapshots?symbols=AAPL,NOPE&feed=delayed_sip`, {
      headers: { "APCA-API-KEY-ID": GOOD_KEY, "APCA-API-SECRET-KEY": GOOD_SECRET },
    });
    const body = (await res.json()) as Record<
      string,
      { dailyBar: { v: number }; latestTrade: { p: number; c: string[] } }
    >;
    expect(Object.keys(body)).toEqual(["AAPL"]);
    expect(body.AAPL!.dailyBar.v).toBe(250_100);
    expect(body.AAPL!.latestTrade).toEqual(expect.objectContaining({ p: 191, c: ["@"] }));
  });
});

describe("polygon", () => {
  it("connected → auth_success → a status per channel; trades with condition ids; max_connections", async () => {
    const f = await start("polygon");
    const a = await client(f.vars.FEED_STREAM_URL!);
    a.ws.send(JSON.stringify({ action: "auth", params: GOOD_KEY }));
    a.ws.send(JSON.stringify({ action: "subscribe", params: "T.AAPL,Q.AAPL" }));
    await until(() => a.got.length === 4);
    expect(a.got.slice(0, 2)).toEqual([
      [{ ev: "status", status: "connected", message: "Connected Successfully" }],
      [{ ev: "status", status: "auth_success", message: "authenticated" }],
    ]);
    expect(a.got[2]).toEqual([{ ev: "status", status: "success", message: "subscribed to: T.AAPL" }]);
    f.market.trade("AAPL", 182.5, 100, "out-of-sequence");
    f.market.trade("AAPL", 190.1, 100);
    await until(() => a.got.length === 5);
    // Published together: one array.
    const [oos, regular] = a.got[4] as Array<Record<string, unknown>>;
    expect(oos).toEqual(expect.objectContaining({ ev: "T", sym: "AAPL", p: 182.5, c: [32] }));
    expect(regular).not.toHaveProperty("c");
    const b = await client(f.vars.FEED_STREAM_URL!);
    b.ws.send(JSON.stringify({ action: "auth", params: GOOD_KEY }));
    await until(() => b.got.length === 2);
    expect((b.got[1] as Array<{ status: string }>)[0]!.status).toBe("max_connections");
    expect(await b.closed).toBe(1008);
    const snap = (await (
      await fetch(`${f.rest.url}/v2/snapshot/locale/us/markets/stocks/tickers?tickers=AAPL`, {
        headers: { Authorization: `Bearer ${GOOD_KEY}` },
      })
    ).json()) as { tickers: Array<{ day: { v: number; c: number }; lastTrade: { p: number; t: number } }> };
    expect(snap.tickers[0]!.day).toEqual(expect.objectContaining({ v: 250_200, c: 190.1 }));
    expect(snap.tickers[0]!.lastTrade.t).toBeGreaterThan(1e18);
  });
});

describe("finnhub", () => {
  it("token in the URL, no acknowledgements, trades batched with codes, pings; a second connection is refused at the upgrade", async () => {
    const f = await start("finnhub");
    f.stream.behaviour.appPingMs = 0;
    const a = await client(`${f.vars.FEED_STREAM_URL}?token=${GOOD_KEY}`);
    a.ws.send(JSON.stringify({ type: "subscribe", symbol: "AAPL" }));
    await until(() => f.stream.subscribed().has("AAPL"));
    f.market.trade("AAPL", 190.2, 100);
    await until(() => a.got.length === 1);
    expect(a.got[0]).toEqual({
      type: "trade",
      data: [{ s: "AAPL", p: 190.2, t: expect.any(Number), v: 100, c: ["1"] }],
    });
    await expect(client(`${f.vars.FEED_STREAM_URL}?token=${GOOD_KEY}`)).rejects.toThrow(/429/);
    const quote = (await (await fetch(`${f.rest.url}/api/v1/quote?symbol=AAPL&token=${GOOD_KEY}`)).json()) as Record<
      string,
      number
    >;
    expect(quote).toEqual(expect.objectContaining({ c: 190.2, pc: 187 }));
    expect(quote).not.toHaveProperty("v");
    const unknown = await (await fetch(`${f.rest.url}/api/v1/quote?symbol=NOPE&token=${GOOD_KEY}`)).json();
    expect(unknown).toEqual(expect.objectContaining({ c: 0, t: 0 }));
  });

  it("enforces the documented budget: the 61st request in a minute is a 429", async () => {
    const f = await start("finnhub");
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++)
      statuses.push((await fetch(`${f.rest.url}/api/v1/quote?symbol=AAPL&token=${GOOD_KEY}`)).status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
  });
});

describe("coinbase", () => {
  it("subscriptions, a snapshot replay of recent trades on subscribe, 250 ms batches, sequence numbers, -USDC as -USD", async () => {
    const f = await start("coinbase");
    f.market.trade("BTC-USD", 190.3, 0.5);
    f.market.trade("BTC-USD", 190.4, 0.25);
    const a = await client(f.vars.FEED_STREAM_URL!);
    a.ws.send(JSON.stringify({ type: "subscribe", channel: "market_trades", product_ids: ["BTC-USDC"] }));
    await until(() => a.got.length === 2);
    const [snapshot, subs] = a.got as Array<{
      channel: string;
      sequence_num: number;
      events: Array<Record<string, unknown>>;
    }>;
    expect(snapshot!.events[0]).toEqual(
      expect.objectContaining({
        type: "snapshot",
        trades: [
          expect.objectContaining({ price: "190.4", product_id: "BTC-USD" }),
          expect.objectContaining({ price: "190.3" }),
        ],
      }),
    );
    expect(subs!.channel).toBe("subscriptions");
    expect([snapshot!.sequence_num, subs!.sequence_num]).toEqual([0, 1]);
    f.market.trade("BTC-USD", 190.5, 0.1);
    f.market.trade("BTC-USD", 190.6, 0.1);
    await until(() => a.got.length === 3, 1_000);
    const update = a.got[2] as { timestamp: string; events: Array<{ trades: Array<{ price: string }> }> };
    // One 250 ms batch, in the order traded, stamped by the market's clock.
    expect(update.events[0]!.trades.map((t) => t.price)).toEqual(["190.5", "190.6"]);
    expect(update.timestamp).toMatch(/^2026-11-18T17:00/);
    a.ws.send(JSON.stringify({ type: "subscribe", channel: "market_trades", product_ids: ["NOPE-USD"] }));
    await until(() => a.got.length === 4);
    expect(a.got[3]).toEqual(expect.objectContaining({ type: "error" }));
    const ticker = (await (await fetch(`${f.rest.url}/products/BTC-USD/ticker`)).json()) as {
      volume: string;
      price: string;
    };
    // Rolling 24 hours: the figure at the start, less yesterday's volume sliding out (about 7 a second here), plus the fake's trades.
    expect(Number(ticker.volume)).toBeGreaterThan(900_000.95 - 30);
    expect(Number(ticker.volume)).toBeLessThan(900_000.95);
    const [day] = (await (
      await fetch(`${f.rest.url}/products/BTC-USD/candles?granularity=86400`)
    ).json()) as number[][];
    expect(day![5]).toBeCloseTo(250_000.95, 6);
  });
});

describe("binance", () => {
  it("SUBSCRIBE → result null; one message per trade; an unknown pair is acknowledged and silent; more than 5 messages a second drop the connection", async () => {
    const f = await start("binance");
    const a = await client(f.vars.FEED_STREAM_URL!);
    a.ws.send(JSON.stringify({ method: "SUBSCRIBE", params: ["btcusdt@trade", "nopeusdt@trade"], id: 1 }));
    await until(() => a.got.length === 1);
    expect(a.got[0]).toEqual({ result: null, id: 1 });
    f.market.trade("BTCUSDT", 190.7, 0.5);
    f.market.trade("BTCUSDT", 190.8, 0.5);
    await until(() => a.got.length === 3);
    expect(a.got[1]).toEqual({
      stream: "btcusdt@trade",
      data: expect.objectContaining({ e: "trade", s: "BTCUSDT", p: "190.70000000", q: "0.50000000", M: true }),
    });
    for (let i = 0; i < 6; i++) a.ws.send(JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: 10 + i }));
    expect(await a.closed).toBe(1008);
    const day = (await (await fetch(`${f.rest.url}/api/v3/ticker/tradingDay?symbols=["BTCUSDT"]`)).json()) as Array<{
      volume: string;
    }>;
    expect(Number(day[0]!.volume)).toBe(250_001);
    const bad = await fetch(`${f.rest.url}/api/v3/ticker/24hr?symbols=["NOPEUSDT"]`);
    expect([bad.status, await bad.json()]).toEqual([400, { code: -1121, msg: "Invalid symbol." }]);
  });
});

describe("behaviours every fake has", () => {
  it("answers slowly, stays silent for a symbol, goes mute, refuses upgrades, drops connections after authenticating", async () => {
    const f = await start("polygon");
    f.market.list("MSFT", { last: 400 });
    f.stream.behaviour.answerDelayMs = 300;
    f.stream.behaviour.silent.add("MSFT");
    const a = await client(f.vars.FEED_STREAM_URL!);
    const asked = Date.now();
    a.ws.send(JSON.stringify({ action: "auth", params: GOOD_KEY }));
    await until(() => a.got.length === 2, 2_000);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(290);
    f.stream.behaviour.answerDelayMs = 0;
    a.ws.send(JSON.stringify({ action: "subscribe", params: "T.AAPL,T.MSFT" }));
    await until(() => a.got.length === 4);
    // Acknowledged, never streamed.
    expect(a.got[3]).toEqual([{ ev: "status", status: "success", message: "subscribed to: T.MSFT" }]);
    f.market.trade("MSFT", 401, 100);
    f.stream.behaviour.muted = true;
    f.market.trade("AAPL", 191, 100);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.got).toHaveLength(4);
    expect(f.stream.truth.delivered).toEqual([]);
    f.stream.behaviour.muted = false;
    f.stream.behaviour.mode = "refuse-upgrade";
    await expect(client(f.vars.FEED_STREAM_URL!)).rejects.toThrow(/503/);
    f.stream.behaviour.mode = "drop-after-auth";
    f.stream.closeAll();
    const b = await client(f.vars.FEED_STREAM_URL!);
    b.ws.send(JSON.stringify({ action: "auth", params: GOOD_KEY }));
    const authedAt = Date.now();
    await b.closed;
    expect(Date.now() - authedAt).toBeGreaterThanOrEqual(150);
    expect(f.stream.truth.attempts.map((t) => t.outcome)).toEqual(["accepted", "refused", "accepted"]);
  });
});
