import { coinbase } from "../../../fixtures/providers/coinbase";
import type { MarketTrade } from "../market";
import { json, type RestDialect } from "../rest-server";
import type { StreamConnection, StreamDialect } from "../stream-dialect";

/** Trades a market_trades snapshot replays. */
const SNAPSHOT_TRADES = 50;
/** A connection whose channels sent nothing for this long is closed (Coinbase: 60–90 s) unless heartbeats is subscribed. */
const IDLE_CLOSE_MS = 75_000;

interface CoinbaseState {
  sequence: number;
  channels: Map<string, Set<string>>;
  heartbeat: number;
  lastSentAt: number;
}

const stateOf = (c: StreamConnection): CoinbaseState => {
  const s = c.state as unknown as Partial<CoinbaseState>;
  if (!s.channels) Object.assign(s, { sequence: 0, channels: new Map(), heartbeat: 0, lastSentAt: Date.now() });
  return s as CoinbaseState;
};

/** "-USDC" products answer as the matching "-USD" ones on the public channels. */
const marketProduct = (product: string) => product.replace(/-USDC$/, "-USD");

/** One message of the connection: its sequence number, stamped by the market's clock. */
function envelope(c: StreamConnection, now: number, channel: string, events: unknown[]) {
  const state = stateOf(c);
  state.lastSentAt = Date.now();
  return coinbase.envelope(channel, state.sequence++, events, new Date(now).toISOString());
}

const tradeOf = (t: MarketTrade) =>
  coinbase.trade({
    id: t.id,
    product: t.symbol,
    price: t.price,
    size: t.size,
    ts: t.ts,
    side: t.id % 2 ? "BUY" : "SELL",
  });

/** Coinbase Advanced Trade's public channels (fixtures/providers/coinbase.ts). */
export const coinbaseStream: StreamDialect = {
  name: "coinbase",
  batchMs: 250,
  open(c, _req, ctx) {
    stateOf(c);
    // Public market data: no key; every connection is the address's.
    ctx.authenticate(c, "public");
  },
  message(c, text, ctx) {
    let m: { type?: unknown; channel?: unknown; product_ids?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return void ctx.answer(c, { type: "error", message: "Failed to parse the message" });
    }
    const state = stateOf(c);
    const channel = String(m.channel ?? "");
    const products = Array.isArray(m.product_ids) ? m.product_ids.map(String) : [];
    if (m.type !== "subscribe" && m.type !== "unsubscribe")
      return void ctx.answer(c, { type: "error", message: "unknown type" });
    const unknown = products.find((p) => !ctx.market.known(marketProduct(p)) || ctx.behaviour.refused.has(p));
    if (m.type === "subscribe" && unknown && channel !== "heartbeats")
      return void ctx.answer(c, coinbase.refused(unknown));
    const set = state.channels.get(channel) ?? new Set<string>();
    state.channels.set(channel, set);
    if (m.type === "subscribe") for (const p of products) set.add(p);
    else for (const p of products) set.delete(p);
    if (channel === "market_trades") {
      const wanted = [...set].map(marketProduct);
      const current = [...c.subscribed];
      ctx.unsubscribe(
        c,
        current.filter((s) => !wanted.includes(s)),
      );
      if (m.type === "subscribe") ctx.subscribe(c, products.map(marketProduct));
    }
    ctx.answer(
      c,
      envelope(c, ctx.market.now(), "subscriptions", [
        { subscriptions: Object.fromEntries([...state.channels].map(([k, v]) => [k, [...v]])) },
      ]),
    );
  },
  // Updates in the order they traded (not documented; the snapshot is what lists newest first).
  trades: (c, trades, ctx) => [
    envelope(c, ctx.market.now(), "market_trades", [{ type: "update", trades: trades.map(tradeOf) }]),
  ],
  snapshot(c, symbols, ctx) {
    const recent = symbols.flatMap((s) => ctx.market.trades(s).slice(-SNAPSHOT_TRADES));
    return [
      envelope(c, ctx.market.now(), "market_trades", [
        { type: "snapshot", trades: recent.sort((a, b) => b.ts - a.ts || b.id - a.id).map(tradeOf) },
      ]),
    ];
  },
  tick(c, ctx) {
    const state = stateOf(c);
    if ((state.channels.get("heartbeats")?.size ?? 0) > 0) {
      const now = new Date(ctx.market.now()).toISOString();
      ctx.send(
        c,
        envelope(c, ctx.market.now(), "heartbeats", [
          { current_time: now, heartbeat_counter: String(++state.heartbeat) },
        ]),
      );
    } else if (state.channels.size > 0 && Date.now() - state.lastSentAt > IDLE_CLOSE_MS) {
      ctx.close(c, 1000, "idle");
    }
  },
  quote: (c, symbol, bid, ask, ts) => [
    envelope(c, ts, "ticker", [
      {
        type: "update",
        tickers: [
          {
            type: "ticker",
            product_id: symbol,
            price: String((bid + ask) / 2),
            best_bid: String(bid),
            best_ask: String(ask),
          },
        ],
      },
    ]),
  ],
};

const productOf = (path: string) => decodeURIComponent(/^\/products\/([^/]+)\//.exec(path)?.[1] ?? "");

/** Coinbase Exchange's product ticker (rolling 24-hour volume), candles and stats. */
export const coinbaseRest: RestDialect = {
  name: "coinbase",
  requestsPerMinute: coinbase.requestsPerSecond * 60,
  symbols: (req) => [productOf(req.path)],
  handle(req, ctx) {
    const m = ctx.market;
    const product = productOf(req.path);
    if (!m.known(product)) return json(404, coinbase.notFound);
    const now = m.now();
    const last = m.last(product).price;
    const latest = m.latestTrade(product);
    if (req.path.endsWith("/ticker"))
      return json(200, {
        ask: String(Math.round((last + 0.01) * 100) / 100),
        bid: String(Math.round((last - 0.01) * 100) / 100),
        volume: m.volume24h(product, now).toFixed(8),
        trade_id: latest?.id ?? 1,
        price: String(last),
        size: String(latest?.size ?? 0),
        time: new Date(latest?.ts ?? m.openedAt).toISOString(),
        rfq_volume: "0",
      });
    if (req.path.endsWith("/stats")) {
      const b = m.before(product);
      return json(200, {
        open: String(b.open),
        high: String(m.high(product)),
        low: String(m.low(product)),
        last: String(last),
        volume: m.volume24h(product, now).toFixed(8),
        volume_30day: (m.volume24h(product, now) * 30).toFixed(8),
      });
    }
    if (req.path.endsWith("/candles")) {
      const granularity = Number(req.query.get("granularity") ?? 60);
      const end = req.query.get("end") ? Date.parse(req.query.get("end")!) : now;
      const start = req.query.get("start") ? Date.parse(req.query.get("start")!) : end - 300 * granularity * 1000;
      if (granularity === 86_400) {
        const day = Math.floor(now / 86_400_000) * 86_400_000;
        const b = m.before(product);
        return json(
          200,
          day >= start - 86_400_000
            ? [[day / 1000, m.low(product), m.high(product), b.open, last, m.dayVolume(product)]]
            : [],
        );
      }
      const bars = m.minuteBars(product, Math.floor(start / 60_000) * 60_000, end);
      return json(
        200,
        bars.reverse().map((bar) => [bar.t / 1000, bar.l, bar.h, bar.o, bar.c, bar.v]),
      );
    }
    return json(404, coinbase.notFound);
  },
  rateLimited: (retryAfterS) => json(429, coinbase.rateLimited, { "Retry-After": String(retryAfterS) }),
};
