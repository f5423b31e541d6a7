import { ALPACA_PLANS, type AlpacaPlan, alpaca } from "../../../fixtures/providers/alpaca";
import { UTP_CONDITIONS } from "../../../fixtures/providers/conditions";
import type { MarketTrade } from "../market";
import { json, type RestDialect, type RestRequest } from "../rest-server";
import type { StreamConnection, StreamDialect } from "../stream-dialect";

/** How long Alpaca waits for the auth message (its documents: 10 s). */
const AUTH_TIMEOUT_MS = 10_000;

interface AlpacaState {
  feed: string;
  quotes: Set<string>;
  authTimer?: ReturnType<typeof setTimeout>;
}

const stateOf = (c: StreamConnection) => c.state as unknown as AlpacaState;

/** Alpaca's stream (fixtures/providers/alpaca.ts) on the `plan` given: its feeds and its symbol limit. */
export function alpacaStream(plan: AlpacaPlan): StreamDialect {
  const limits = ALPACA_PLANS[plan];
  return {
    name: "alpaca",
    batchMs: 0,
    open(c, req, ctx) {
      const feed = /\/v2\/([a-z_]+)/.exec(req.url ?? "")?.[1] ?? "";
      Object.assign(c.state, { feed, quotes: new Set<string>() } satisfies AlpacaState);
      ctx.send(c, alpaca.connected);
      const timer = setTimeout(() => {
        if (c.authenticatedAt !== undefined) return;
        ctx.send(c, alpaca.error(404));
        ctx.close(c, 1008, "auth timeout");
      }, AUTH_TIMEOUT_MS);
      stateOf(c).authTimer = timer;
      c.ws.on("close", () => clearTimeout(timer));
    },
    message(c, text, ctx) {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return void ctx.answer(c, alpaca.error(400));
      }
      const state = stateOf(c);
      if (m.action === "auth") {
        if (c.authenticatedAt !== undefined) return void ctx.answer(c, alpaca.error(403));
        const key = String(m.key ?? "");
        if (ctx.credentials.get(key) !== m.secret || !ctx.credentials.has(key)) {
          ctx.answer(c, alpaca.error(402));
          return void ctx.close(c, 1008, "auth failed");
        }
        if (!limits.feeds.includes(state.feed)) {
          ctx.answer(c, alpaca.error(409));
          return void ctx.close(c, 1008, "insufficient subscription");
        }
        if (!ctx.authenticate(c, key)) {
          ctx.answer(c, alpaca.error(406));
          return void ctx.close(c, 1008, "connection limit exceeded");
        }
        clearTimeout(state.authTimer);
        return void ctx.answer(c, alpaca.authenticated);
      }
      if (m.action !== "subscribe" && m.action !== "unsubscribe") return void ctx.answer(c, alpaca.error(400));
      if (c.authenticatedAt === undefined) return void ctx.answer(c, alpaca.error(401));
      const trades = Array.isArray(m.trades) ? m.trades.map(String) : [];
      const quotes = Array.isArray(m.quotes) ? m.quotes.map(String) : [];
      if (m.action === "subscribe") {
        const after = new Set([...c.subscribed, ...trades]);
        const afterQuotes = new Set([...state.quotes, ...quotes]);
        // Over the plan's limit, or a symbol the fake refuses: the whole message is refused, naming nothing.
        const refused = [...trades, ...quotes].some((s) => ctx.behaviour.refused.has(s));
        if (refused || after.size > limits.symbols || afterQuotes.size > limits.symbols)
          return void ctx.answer(c, alpaca.error(405));
        ctx.subscribe(c, trades);
        for (const s of quotes) state.quotes.add(s);
      } else {
        ctx.unsubscribe(c, trades);
        for (const s of quotes) state.quotes.delete(s);
      }
      ctx.answer(c, alpaca.subscription([...c.subscribed], [...state.quotes]));
    },
    trades: (_c, trades) => [trades.map(alpacaTrade)],
    quote: (_c, symbol, bid, ask, ts) => [
      { T: "q", S: symbol, bx: "V", bp: bid, bs: 1, ax: "V", ap: ask, as: 1, t: alpaca.time(ts, 1), c: ["R"], z: "C" },
    ],
  };
}

function alpacaTrade(t: MarketTrade) {
  return {
    T: "t",
    S: t.symbol,
    i: t.id,
    x: "V",
    p: t.price,
    s: t.size,
    c: [...UTP_CONDITIONS[t.kind]],
    t: alpaca.time(t.ts, (t.id * 7919) % 1_000_000),
    z: "C",
  };
}

/** Alpaca's `GET /v2/stocks/snapshots` on `plan`: the newest trade of any condition, the day's running bar. */
export function alpacaRest(plan: AlpacaPlan): RestDialect {
  return {
    name: "alpaca",
    requestsPerMinute: ALPACA_PLANS[plan].requestsPerMinute,
    symbols: (req: RestRequest) => (req.query.get("symbols") ?? "").split(","),
    handle(req, ctx) {
      const key = String(req.headers["apca-api-key-id"] ?? "");
      if (!ctx.credentials.has(key) || ctx.credentials.get(key) !== req.headers["apca-api-secret-key"])
        return json(403, alpaca.forbidden);
      if (req.path !== "/v2/stocks/snapshots") return json(404, { message: "Not Found" });
      const m = ctx.market;
      const body: Record<string, unknown> = {};
      for (const s of (req.query.get("symbols") ?? "").split(",")) {
        if (!m.known(s)) continue;
        const before = m.before(s);
        const latest = m.latestTrade(s);
        const now = m.now() - m.delayMs;
        const minute = Math.floor(now / 60_000) * 60_000;
        const bar = m.minuteBars(s, minute, minute).at(0);
        const day = new Date(now).toISOString().slice(0, 10);
        body[s] = {
          latestTrade: latest
            ? alpacaRestTrade(latest)
            : { t: alpaca.time(m.openedAt - m.delayMs), x: "V", p: before.last, s: 100, c: ["@"], i: 0, z: "C" },
          latestQuote: {
            t: alpaca.time(now),
            ax: "V",
            ap: round2(m.last(s).price + 0.01),
            as: 1,
            bx: "V",
            bp: round2(m.last(s).price - 0.01),
            bs: 1,
            c: ["R"],
            z: "C",
          },
          minuteBar: bar ? { ...bar, t: alpaca.time(bar.t), vw: bar.c } : undefined,
          dailyBar: {
            t: `${day}T05:00:00Z`,
            o: before.open,
            h: m.high(s),
            l: m.low(s),
            c: m.last(s).price,
            v: m.dayVolume(s),
            n: m.trades(s).length + 1,
            vw: m.last(s).price,
          },
          prevDailyBar: {
            t: `${new Date(Date.parse(day) - 86_400_000).toISOString().slice(0, 10)}T05:00:00Z`,
            o: before.prevClose,
            h: before.prevClose,
            l: before.prevClose,
            c: before.prevClose,
            v: before.prevVolume ?? 0,
            n: 1,
            vw: before.prevClose,
          },
        };
      }
      return json(200, body);
    },
    rateLimited: (retryAfterS) => json(429, alpaca.rateLimited, { "Retry-After": String(retryAfterS) }),
  };
}

function alpacaRestTrade(t: MarketTrade) {
  return { t: alpaca.time(t.ts, 1), x: "V", p: t.price, s: t.size, c: [...UTP_CONDITIONS[t.kind]], i: t.id, z: "C" };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
