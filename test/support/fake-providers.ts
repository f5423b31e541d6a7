import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { freePort } from "./dev-server";

/**
 * One HTTP server on 127.0.0.1 that answers like each provider's documented API
 * (Finnhub, Twelve Data, Alpaca, Polygon with its minute aggregates, Coinbase, Binance). The symbol picks the
 * scenario: any symbol is a good quote except these bases, which misbehave:
 *   NOPE unknown symbol · RATE 429 + Retry-After · SLOW answers after 3 s · HTML a
 *   challenge page · TRUNC cut-off JSON · NAN a non-numeric price · NEG a negative price ·
 *   NOTE an Alpha Vantage-style `{"Note": …}` throttle message with HTTP 200 · BOOM 500 once, then fine ·
 *   LAGGY quotes at once, Polygon's minute aggregates after 3 s (a slow history).
 * A key of "bad-key" is refused the provider's way. Every request is recorded.
 */
export const GOOD_KEY = "good-key";
export const PRICE = 123.45;
const T_SECONDS = 1_795_000_000;

export interface FakeProviders {
  url: string;
  /** Symbols (as the provider names them) answered with HTTP 503 until removed. */
  failing: Set<string>;
  requests: Array<{ path: string; query: URLSearchParams; headers: IncomingMessage["headers"] }>;
  close(): Promise<void>;
}

type Answer = { status: number; body: string; type?: string; headers?: Record<string, string>; delayMs?: number };

const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({
  status,
  body: JSON.stringify(body),
  headers,
});

/** Scenario from the symbol's base (AAPL, NOPE-USD, BTCUSDT → BTC, NOPEUSDT → NOPE). */
function scenario(symbol: string): string {
  return symbol.replace(/-.*$|\/.*$|USDT$/, "");
}

const failing = new Set<string>();

function special(symbol: string, booms: Set<string>): Answer | undefined {
  if (failing.has(symbol)) return { status: 503, body: "upstream unavailable", type: "text/plain" };
  switch (scenario(symbol)) {
    case "RATE":
      return { status: 429, body: '{"error":"API limit reached"}', headers: { "Retry-After": "2" } };
    case "HTML":
      return { status: 200, body: "<!DOCTYPE html><html><title>Just a moment...</title></html>", type: "text/html" };
    case "TRUNC":
      return { status: 200, body: '{"c": 12' };
    case "NOTE":
      return json(200, { Note: "Thank you for using our API. Our standard call frequency is 5 calls per minute." });
    case "SLOW":
      return { ...json(200, {}), delayMs: 3_000 };
    case "BOOM":
      if (!booms.has(symbol)) {
        booms.add(symbol);
        return { status: 500, body: "internal error", type: "text/plain" };
      }
  }
  return undefined;
}

const priceFor = (symbol: string) => (scenario(symbol) === "NAN" ? "N/A" : scenario(symbol) === "NEG" ? -5 : PRICE);

function finnhub(q: URLSearchParams, key: string, booms: Set<string>): Answer {
  if (key !== GOOD_KEY) return json(401, { error: "Invalid API key" });
  const symbol = q.get("symbol") ?? "";
  const s = special(symbol, booms);
  if (s) return s;
  if (scenario(symbol) === "NOPE") return json(200, { c: 0, d: null, dp: null, h: 0, l: 0, o: 0, pc: 0, t: 0 });
  return json(200, { c: priceFor(symbol), d: 1.45, dp: 1.1885, h: 124, l: 121.5, o: 122, pc: 122, t: T_SECONDS });
}

function twelvedata(q: URLSearchParams, key: string, booms: Set<string>): Answer {
  if (key !== `apikey ${GOOD_KEY}`)
    return json(200, { code: 401, message: "**apikey** parameter is incorrect", status: "error" });
  const symbols = (q.get("symbol") ?? "").split(",");
  for (const s of symbols) {
    const a = special(s, booms);
    if (a) return a;
  }
  const one = (s: string) =>
    scenario(s) === "NOPE"
      ? { code: 404, message: `symbol ${s} not found`, status: "error" }
      : {
          symbol: s,
          currency: "USD",
          timestamp: T_SECONDS,
          open: "122.0",
          high: "124.0",
          low: "121.5",
          close: String(priceFor(s)),
          volume: "1000",
          previous_close: "122.0",
          change: "1.45",
          percent_change: "1.18852",
        };
  if (symbols.length === 1) {
    const body = one(symbols[0]!);
    return json(200, body);
  }
  return json(200, Object.fromEntries(symbols.map((s) => [s, one(s)])));
}

function alpaca(q: URLSearchParams, headers: IncomingMessage["headers"], booms: Set<string>): Answer {
  if (headers["apca-api-key-id"] !== GOOD_KEY || headers["apca-api-secret-key"] !== "good-secret")
    return json(403, { message: "forbidden." });
  const symbols = (q.get("symbols") ?? "").split(",");
  for (const s of symbols) {
    const a = special(s, booms);
    if (a) return a;
  }
  const body: Record<string, unknown> = {};
  for (const s of symbols) {
    if (scenario(s) === "NOPE") continue; // unknown symbols are simply absent
    body[s] = {
      // ODDLOT: the newest print is an odd lot (UTP letter I), which sets no last price.
      latestTrade:
        scenario(s) === "ODDLOT"
          ? { t: "2026-11-20T15:30:00.123456789Z", p: 99, s: 7, c: ["@", "I"], z: "C" }
          : { t: "2026-11-20T15:30:00.123456789Z", p: priceFor(s), s: 100 },
      latestQuote: { t: "2026-11-20T15:30:00.1Z", bp: 123.4, ap: 123.5 },
      dailyBar: { t: "2026-11-20T05:00:00Z", o: 122, h: 124, l: 121.5, c: PRICE, v: 1000 },
      prevDailyBar: { t: "2026-11-19T05:00:00Z", o: 121, h: 123, l: 120, c: 122, v: 900 },
    };
  }
  return json(200, body);
}

function polygon(q: URLSearchParams, key: string, booms: Set<string>): Answer {
  if (key !== `Bearer ${GOOD_KEY}`) return json(401, { status: "ERROR", request_id: "x", error: "Unknown API Key" });
  const symbols = (q.get("tickers") ?? "").split(",");
  for (const s of symbols) {
    const a = special(s, booms);
    if (a) return a;
  }
  const tickers = symbols
    .filter((s) => scenario(s) !== "NOPE")
    .map((s) => ({
      ticker: s,
      day: { o: 122, h: 124, l: 121.5, c: priceFor(s), v: 1000 },
      // ODDLOT: the newest print is an odd lot (condition 37), which sets no last price.
      lastTrade: {
        p: scenario(s) === "ODDLOT" ? 99 : priceFor(s),
        // biome-ignore lint/correctness/noPrecisionLoss: Polygon sends nanosecond integers; JSON.parse rounds them as here
        t: 1_795_000_000_123_456_789,
        ...(scenario(s) === "ODDLOT" ? { c: [37] } : {}),
      },
      lastQuote: { p: 123.4, P: 123.5, t: 1_795_000_000_100_000_000 },
      prevDay: { c: 122 },
      todaysChange: 1.45,
      todaysChangePerc: 1.1885,
      // biome-ignore lint/correctness/noPrecisionLoss: as lastTrade.t
      updated: 1_795_000_000_123_456_789,
    }));
  return json(200, { status: "OK", count: tickers.length, tickers });
}

/** What the fake Polygon plan keeps of minute aggregates: the last four days before `to`. */
export const POLYGON_AGGS_DAYS = 4;

/** The fake's minute bar starting at `t` (every minute, day and night: the server keeps the session's). */
export function polygonMinuteBar(t: number) {
  const o = 100 + ((t / 60_000) % 97) / 10;
  return { v: 1_000 + ((t / 60_000) % 13), vw: o + 0.05, o, c: o + 0.1, h: o + 0.3, l: o - 0.2, t, n: 12 };
}

/** `/v2/aggs/ticker/{T}/range/1/minute/{from}/{to}` (from/to in ms), ascending, as Polygon documents it. */
function polygonAggs(
  ticker: string,
  multiplier: string,
  timespan: string,
  fromRaw: string,
  toRaw: string,
  q: URLSearchParams,
  key: string,
  booms: Set<string>,
): Answer {
  if (key !== `Bearer ${GOOD_KEY}`) return json(401, { status: "ERROR", request_id: "x", error: "Unknown API Key" });
  const a = special(ticker, booms);
  if (a) return a;
  if (multiplier !== "1" || timespan !== "minute" || !/^\d+$/.test(fromRaw) || !/^\d+$/.test(toRaw))
    return json(400, { status: "ERROR", request_id: "x", error: "this fake serves 1/minute with ms bounds" });
  const limit = Number(q.get("limit") ?? 5000);
  const to = Number(toRaw);
  const from = Math.max(Number(fromRaw), to - POLYGON_AGGS_DAYS * 86_400_000);
  const results = [];
  for (let t = Math.ceil(from / 60_000) * 60_000; t <= to && results.length < limit; t += 60_000)
    results.push(polygonMinuteBar(t));
  const answer = json(200, {
    ticker,
    queryCount: results.length,
    resultsCount: results.length,
    adjusted: q.get("adjusted") !== "false",
    results,
    status: "OK",
    request_id: "fake",
    count: results.length,
  });
  return scenario(ticker) === "LAGGY" ? { ...answer, delayMs: 3_000 } : answer;
}

function coinbase(product: string, booms: Set<string>): Answer {
  const a = special(product, booms);
  if (a) return a;
  if (scenario(product) === "NOPE") return json(404, { message: "NotFound" });
  return json(200, {
    ask: "123.5",
    bid: "123.4",
    volume: "1000.5",
    trade_id: 1,
    price: String(priceFor(product)),
    size: "0.1",
    time: "2026-11-20T15:30:00.123456Z",
  });
}

/** Coinbase's daily candles from `start` (the UTC day's, newest first: `[time, low, high, open, close, volume]`). */
function coinbaseDay(product: string, q: URLSearchParams): Answer {
  if (scenario(product) === "NOPE") return json(404, { message: "NotFound" });
  const day = Date.parse(q.get("start") ?? "") / 1000;
  return json(200, Number.isFinite(day) ? [[day, 121.5, 124, 122, PRICE, 5000.25]] : []);
}

/** Binance's UTC trading-day ticker (`ticker/tradingDay`): the day's figures, no book. */
function binance(q: URLSearchParams, booms: Set<string>): Answer {
  let symbols: string[];
  try {
    symbols = JSON.parse(q.get("symbols") ?? "[]") as string[];
  } catch {
    return json(400, { code: -1100, msg: "Illegal characters found in parameter 'symbols'" });
  }
  for (const s of symbols) {
    const a = special(s, booms);
    if (a) return a;
  }
  if (symbols.some((s) => scenario(s) === "NOPE")) return json(400, { code: -1121, msg: "Invalid symbol." });
  return json(
    200,
    symbols.map((s) => ({
      symbol: s,
      priceChange: "1.45",
      priceChangePercent: "1.189",
      lastPrice: String(priceFor(s)),
      openPrice: "122.00",
      highPrice: "124.00",
      lowPrice: "121.50",
      volume: "1000.5",
      openTime: 1_794_913_600_000,
      closeTime: 1_795_000_000_123,
    })),
  );
}

export async function startFakeProviders(): Promise<FakeProviders> {
  const port = await freePort();
  const requests: FakeProviders["requests"] = [];
  const booms = new Set<string>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers });
    const q = url.searchParams;
    let answer: Answer;
    const product = /^\/products\/([^/]+)\/ticker$/.exec(url.pathname);
    const candles = /^\/products\/([^/]+)\/candles$/.exec(url.pathname);
    const aggs = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === "/api/v1/quote") answer = finnhub(q, String(req.headers["x-finnhub-token"] ?? ""), booms);
    else if (url.pathname === "/quote") answer = twelvedata(q, String(req.headers.authorization ?? ""), booms);
    else if (url.pathname === "/v2/stocks/snapshots") answer = alpaca(q, req.headers, booms);
    else if (url.pathname === "/v2/snapshot/locale/us/markets/stocks/tickers")
      answer = polygon(q, String(req.headers.authorization ?? ""), booms);
    else if (aggs)
      answer = polygonAggs(
        decodeURIComponent(aggs[1]!),
        aggs[2]!,
        aggs[3]!,
        aggs[4]!,
        aggs[5]!,
        q,
        String(req.headers.authorization ?? ""),
        booms,
      );
    else if (product) answer = coinbase(decodeURIComponent(product[1]!), booms);
    else if (candles) answer = coinbaseDay(decodeURIComponent(candles[1]!), q);
    else if (url.pathname === "/api/v3/ticker/tradingDay") answer = binance(q, booms);
    else answer = json(404, { error: "no such endpoint" });
    const send = () => {
      if (res.destroyed) return;
      res
        .writeHead(answer.status, { "content-type": answer.type ?? "application/json", ...answer.headers })
        .end(answer.body);
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}`,
    failing,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
