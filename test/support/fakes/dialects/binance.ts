import { binance } from "../../../fixtures/providers/binance";
import { json, type RestDialect, type RestRequest } from "../rest-server";
import type { StreamConnection, StreamDialect } from "../stream-dialect";

interface BinanceState {
  /** When the client's recent messages arrived (the 5-a-second limit). */
  arrivals: number[];
}

const stateOf = (c: StreamConnection): BinanceState => {
  const s = c.state as unknown as Partial<BinanceState>;
  if (!s.arrivals) s.arrivals = [];
  return s as BinanceState;
};

const symbolOf = (stream: string) => /^([a-z0-9]+)@trade$/.exec(stream)?.[1]?.toUpperCase();
const VALID_STREAM = /^[a-z0-9]+@(trade|aggTrade|bookTicker|kline_\w+|miniTicker|ticker|depth\w*)$/;

/** Binance's combined streams with live SUBSCRIBE (fixtures/providers/binance.ts). */
export const binanceStream: StreamDialect = {
  name: "binance",
  batchMs: 0,
  open(c, req, ctx) {
    stateOf(c);
    ctx.authenticate(c, "public");
    const streams = new URL(req.url ?? "/", "http://x").searchParams.get("streams");
    if (streams)
      ctx.subscribe(
        c,
        streams.split("/").flatMap((s) => symbolOf(s) ?? []),
      );
  },
  message(c, text, ctx) {
    const state = stateOf(c);
    const now = Date.now();
    state.arrivals = state.arrivals.filter((t) => t > now - 1_000);
    state.arrivals.push(now);
    if (state.arrivals.length > binance.messagesPerSecond) return void c.ws.close(1008, "Too many requests");
    let m: { method?: unknown; params?: unknown; id?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return void ctx.answer(c, binance.error(null, 3, "Invalid JSON: expected value at line 1 column 1"));
    }
    if (m.method !== "SUBSCRIBE" && m.method !== "UNSUBSCRIBE" && m.method !== "LIST_SUBSCRIPTIONS")
      return void ctx.answer(c, binance.error(m.id ?? null, 2, `Invalid request: unknown variant ${String(m.method)}`));
    if (m.method === "LIST_SUBSCRIPTIONS")
      return void ctx.answer(c, { result: [...c.subscribed].map((s) => `${s.toLowerCase()}@trade`), id: m.id });
    const params = Array.isArray(m.params) ? m.params.map(String) : [];
    const invalid = params.find((p) => !VALID_STREAM.test(p));
    if (invalid)
      return void ctx.answer(c, binance.error(m.id ?? null, 2, `Invalid request: invalid stream name ${invalid}`));
    const symbols = params.flatMap((p) => symbolOf(p) ?? []);
    if (m.method === "SUBSCRIBE") {
      const refused = symbols.find((s) => ctx.behaviour.refused.has(s));
      if (refused)
        return void ctx.answer(c, binance.error(m.id ?? null, 2, `Invalid request: ${refused.toLowerCase()}@trade`));
      ctx.subscribe(c, symbols);
    } else {
      ctx.unsubscribe(c, symbols);
    }
    ctx.answer(c, binance.ack(m.id ?? null));
  },
  trades: (_c, trades) =>
    trades.map((t) =>
      binance.trade({ id: t.id, symbol: t.symbol, price: t.price, size: t.size, ts: t.ts, sentAt: t.publishedAt }),
    ),
  quote: (_c, symbol, bid, ask, ts) => ({
    stream: `${symbol.toLowerCase()}@bookTicker`,
    data: { u: ts, s: symbol, b: bid.toFixed(8), B: "1.00000000", a: ask.toFixed(8), A: "1.00000000" },
  }),
};

function symbolsOf(req: RestRequest): string[] {
  const one = req.query.get("symbol");
  if (one) return [one];
  try {
    const many = JSON.parse(req.query.get("symbols") ?? "[]") as unknown;
    return Array.isArray(many) ? many.map(String) : [];
  } catch {
    return [];
  }
}

/** Binance's rolling 24-hour ticker, its UTC trading-day ticker and minute klines. */
export const binanceRest: RestDialect = {
  name: "binance",
  // 6,000 weight a minute; a 24hr ticker of up to 20 symbols weighs 2 (more for more): requests, roughly.
  requestsPerMinute: 3_000,
  symbols: symbolsOf,
  handle(req, ctx) {
    const m = ctx.market;
    const symbols = symbolsOf(req);
    if (symbols.some((s) => !m.known(s))) return json(400, binance.invalidSymbol);
    const now = m.now();
    const ticker = (s: string, day: boolean) => {
      const b = m.before(s);
      const last = m.last(s).price;
      const open = b.open;
      const latest = m.latestTrade(s);
      const dayStart = Math.floor(now / 86_400_000) * 86_400_000;
      return {
        symbol: s,
        priceChange: (last - open).toFixed(8),
        priceChangePercent: (((last - open) / open) * 100).toFixed(3),
        ...(day
          ? {}
          : {
              prevClosePrice: b.prevClose.toFixed(8),
              bidPrice: (last - 0.01).toFixed(8),
              askPrice: (last + 0.01).toFixed(8),
            }),
        weightedAvgPrice: last.toFixed(8),
        openPrice: open.toFixed(8),
        highPrice: m.high(s).toFixed(8),
        lowPrice: m.low(s).toFixed(8),
        lastPrice: last.toFixed(8),
        volume: (day ? m.dayVolume(s) : m.volume24h(s, now)).toFixed(8),
        quoteVolume: ((day ? m.dayVolume(s) : m.volume24h(s, now)) * last).toFixed(8),
        openTime: day ? dayStart : now - 86_400_000,
        closeTime: day ? dayStart + 86_400_000 - 1 : now,
        firstId: 1,
        lastId: latest?.id ?? 1,
        count: m.trades(s).length,
      };
    };
    if (req.path === "/api/v3/ticker/24hr")
      return json(200, req.query.get("symbol") ? ticker(symbols[0]!, false) : symbols.map((s) => ticker(s, false)));
    if (req.path === "/api/v3/ticker/tradingDay")
      return json(200, req.query.get("symbol") ? ticker(symbols[0]!, true) : symbols.map((s) => ticker(s, true)));
    if (req.path === "/api/v3/klines") {
      const start = Number(req.query.get("startTime") ?? now - 500 * 60_000);
      const end = Number(req.query.get("endTime") ?? now);
      return json(
        200,
        m
          .minuteBars(symbols[0]!, Math.floor(start / 60_000) * 60_000, end)
          .map((b) => [
            b.t,
            b.o.toFixed(8),
            b.h.toFixed(8),
            b.l.toFixed(8),
            b.c.toFixed(8),
            b.v.toFixed(8),
            b.t + 59_999,
            (b.v * b.c).toFixed(8),
            b.n,
            "0",
            "0",
            "0",
          ]),
      );
    }
    return json(404, { code: -1, msg: "not found" });
  },
  rateLimited: (retryAfterS) => json(429, binance.rateLimited, { "Retry-After": String(retryAfterS) }),
};
