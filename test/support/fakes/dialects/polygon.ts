import { POLYGON_CONDITIONS } from "../../../fixtures/providers/conditions";
import { polygon } from "../../../fixtures/providers/polygon";
import type { MarketTrade } from "../market";
import { json, type RestDialect, type RestRequest } from "../rest-server";
import type { StreamDialect } from "../stream-dialect";

const NS = 1_000_000;

/** Polygon/Massive's stocks cluster (fixtures/providers/polygon.ts): `/stocks` real time, `/delayed/stocks` 15 minutes late. */
export const polygonStream: StreamDialect = {
  name: "polygon",
  batchMs: 0,
  open(c, _req, ctx) {
    ctx.send(c, polygon.connected);
  },
  message(c, text, ctx) {
    let m: { action?: unknown; params?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return void ctx.answer(c, [{ ev: "status", status: "error", message: "invalid json" }]);
    }
    const params = typeof m.params === "string" ? m.params : "";
    if (m.action === "auth") {
      if (!ctx.credentials.has(params)) {
        ctx.answer(c, polygon.authFailed);
        return void ctx.close(c, 1008, "authentication failed");
      }
      if (!ctx.authenticate(c, params)) {
        ctx.answer(c, polygon.maxConnections);
        return void ctx.close(c, 1008, "max connections");
      }
      return void ctx.answer(c, polygon.authSuccess);
    }
    if (c.authenticatedAt === undefined) return void ctx.answer(c, polygon.notAuthorized);
    const channels = params
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const trades = channels.filter((p) => p.startsWith("T.")).map((p) => p.slice(2));
    if (m.action === "subscribe") {
      const refused = trades.filter((s) => ctx.behaviour.refused.has(s));
      ctx.subscribe(
        c,
        trades.filter((s) => !refused.includes(s)),
      );
      for (const p of channels) {
        const symbol = p.slice(p.indexOf(".") + 1);
        ctx.answer(
          c,
          refused.includes(symbol)
            ? [{ ev: "status", status: "error", message: `not authorized for ${p}` }]
            : polygon.subscribed(p),
        );
      }
    } else if (m.action === "unsubscribe") {
      ctx.unsubscribe(c, trades);
      for (const p of channels) ctx.answer(c, polygon.unsubscribed(p));
    }
  },
  trades: (_c, trades) => [trades.map(polygonTrade)],
  quote: (_c, symbol, bid, ask, ts) => [
    {
      ev: "Q",
      sym: symbol,
      bx: polygon.exchange,
      bp: bid,
      bs: 1,
      ax: polygon.exchange,
      ap: ask,
      as: 1,
      z: polygon.tape,
      t: ts,
    },
  ],
};

function polygonTrade(t: MarketTrade) {
  const c = POLYGON_CONDITIONS[t.kind];
  return {
    ev: "T",
    sym: t.symbol,
    x: polygon.exchange,
    i: String(t.id),
    z: polygon.tape,
    p: t.price,
    s: t.size,
    ...(c.length > 0 ? { c: [...c] } : {}),
    t: t.ts,
    q: t.id,
  };
}

const keyOf = (req: RestRequest) =>
  req.query.get("apiKey") ?? String(req.headers.authorization ?? "").replace(/^Bearer /, "");

/** Polygon's stock snapshot and minute aggregates, from the market's truth. */
export const polygonRest: RestDialect = {
  name: "polygon",
  symbols: (req) =>
    req.path.startsWith("/v2/aggs/ticker/")
      ? [decodeURIComponent(req.path.split("/")[4] ?? "")]
      : (req.query.get("tickers") ?? "").split(","),
  handle(req, ctx) {
    if (!ctx.credentials.has(keyOf(req))) return json(401, polygon.badKeyRest);
    const m = ctx.market;
    const aggs = /^\/v2\/aggs\/ticker\/([^/]+)\/range\/1\/minute\/(\d+)\/(\d+)$/.exec(req.path);
    if (aggs) {
      const ticker = decodeURIComponent(aggs[1]!);
      const results = m.known(ticker)
        ? m.minuteBars(ticker, Number(aggs[2]), Number(aggs[3])).map((b) => ({ ...b, vw: b.c }))
        : [];
      return json(200, {
        ticker,
        queryCount: results.length,
        resultsCount: results.length,
        adjusted: true,
        results,
        status: m.delayMs > 0 ? "DELAYED" : "OK",
        request_id: "fake",
        count: results.length,
      });
    }
    if (req.path !== "/v2/snapshot/locale/us/markets/stocks/tickers") return json(404, { status: "NOT_FOUND" });
    const now = m.now() - m.delayMs;
    const tickers = (req.query.get("tickers") ?? "")
      .split(",")
      .filter((s) => m.known(s))
      .map((s) => {
        const before = m.before(s);
        const latest = m.latestTrade(s);
        const last = m.last(s).price;
        const minute = Math.floor(now / 60_000) * 60_000;
        const bar = m.minuteBars(s, minute, minute).at(0);
        return {
          ticker: s,
          todaysChange: Math.round((last - before.prevClose) * 10_000) / 10_000,
          todaysChangePerc: Math.round(((last - before.prevClose) / before.prevClose) * 1e6) / 1e4,
          updated: now * NS,
          day: { o: before.open, h: m.high(s), l: m.low(s), c: last, v: m.dayVolume(s), vw: last },
          lastQuote: {
            p: Math.round((last - 0.01) * 100) / 100,
            s: 1,
            P: Math.round((last + 0.01) * 100) / 100,
            S: 1,
            t: now * NS,
          },
          lastTrade: latest
            ? {
                ...(POLYGON_CONDITIONS[latest.kind].length > 0 ? { c: [...POLYGON_CONDITIONS[latest.kind]] } : {}),
                i: String(latest.id),
                p: latest.price,
                s: latest.size,
                t: latest.ts * NS + 123,
                x: polygon.exchange,
              }
            : { i: "0", p: before.last, s: 100, t: (m.openedAt - m.delayMs) * NS, x: polygon.exchange },
          min: bar
            ? { av: m.dayVolume(s), t: bar.t, n: bar.n, o: bar.o, h: bar.h, l: bar.l, c: bar.c, v: bar.v, vw: bar.c }
            : {},
          prevDay: {
            o: before.prevClose,
            h: before.prevClose,
            l: before.prevClose,
            c: before.prevClose,
            v: before.prevVolume ?? 0,
            vw: before.prevClose,
          },
        };
      });
    return json(200, { status: "OK", count: tickers.length, tickers, request_id: "fake" });
  },
  rateLimited: (retryAfterS) => json(429, polygon.rateLimited, { "Retry-After": String(retryAfterS) }),
};
