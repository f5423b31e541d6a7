import { FINNHUB_REGULAR } from "../../../fixtures/providers/conditions";
import { finnhub } from "../../../fixtures/providers/finnhub";
import { json, type RestDialect } from "../rest-server";
import type { StreamDialect } from "../stream-dialect";

const tokenOf = (url: string | undefined) => new URL(url ?? "/", "http://x").searchParams.get("token") ?? "";

/** Finnhub's stream (fixtures/providers/finnhub.ts): authenticated by the token in the URL, no acknowledgements. */
export const finnhubStream: StreamDialect = {
  name: "finnhub",
  batchMs: 0,
  upgrade(req, ctx) {
    const token = tokenOf(req.url);
    // A second connection for the key: refused before the upgrade (the fake's choice; Finnhub does not document how).
    if (ctx.credentials.has(token) && !ctx.admit(token)) return { status: 429, body: "Too many connections" };
    return undefined;
  },
  open(c, req, ctx) {
    const token = tokenOf(req.url);
    if (!ctx.credentials.has(token)) {
      c.key = token;
      ctx.send(c, finnhub.badKey);
      ctx.close(c, 1008, "unauthorized");
      return;
    }
    // Admitted at the upgrade: a second connection was refused there.
    ctx.authenticate(c, token);
  },
  message(c, text, ctx) {
    let m: { type?: unknown; symbol?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return;
    }
    if (typeof m.symbol !== "string" || c.authenticatedAt === undefined) return;
    if (m.type === "subscribe") {
      if (ctx.behaviour.refused.has(m.symbol))
        return void ctx.answer(c, { type: "error", msg: `Invalid symbol ${m.symbol}` });
      ctx.subscribe(c, [m.symbol]);
    }
    if (m.type === "unsubscribe") ctx.unsubscribe(c, [m.symbol]);
  },
  trades: (_c, trades) => [
    finnhub.trades(trades.map((t) => ({ s: t.symbol, p: t.price, t: t.ts, v: t.size, c: [...FINNHUB_REGULAR] }))),
  ],
  ping: () => finnhub.ping,
};

/** Finnhub's `/api/v1/quote`: the last price by the tape's rules; no volume. */
export const finnhubRest: RestDialect = {
  name: "finnhub",
  requestsPerMinute: finnhub.requestsPerMinute,
  symbols: (req) => [req.query.get("symbol") ?? ""],
  handle(req, ctx) {
    const key = String(req.headers["x-finnhub-token"] ?? req.query.get("token") ?? "");
    if (!ctx.credentials.has(key)) return json(401, finnhub.badKeyRest);
    if (req.path !== "/api/v1/quote") return json(404, { error: "not found" });
    const symbol = req.query.get("symbol") ?? "";
    if (!ctx.market.known(symbol)) return json(200, finnhub.unknownQuote);
    const m = ctx.market;
    const last = m.last(symbol);
    const before = m.before(symbol);
    return json(
      200,
      finnhub.quote({
        c: last.price,
        h: m.high(symbol),
        l: m.low(symbol),
        o: before.open,
        pc: before.prevClose,
        t: Math.floor((last.ts ?? m.openedAt) / 1000),
      }),
    );
  },
  rateLimited: (retryAfterS) => json(429, finnhub.rateLimited, { "Retry-After": String(retryAfterS) }),
};
