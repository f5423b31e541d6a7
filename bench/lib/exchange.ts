import { createServer, type Server } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";

/**
 * A fake exchange on 127.0.0.1 for the streaming workload: `symbols` trade at skewed rates
 * (the first few at 50–200 trades/s, the rest at 0.1–2/s, Poisson arrivals), each trade with
 * a price unique within its symbol (so a displayed price names the trade it came from). It
 * speaks Finnhub's documented stream (`{"type":"trade","data":[…]}` to subscribers, pings)
 * and REST quote (`/api/v1/quote?symbol=`: the latest trade, `t` in seconds).
 */
export interface Exchange {
  restUrl: string;
  streamUrl: string;
  /** Trades so far per symbol: times (ms) and prices, in order. */
  trades: Map<string, { ts: number[]; price: number[]; byPrice: Map<number, number> }>;
  latest(symbol: string): { price: number; ts: number };
  close(): Promise<void>;
  tradesPerSecond: number;
}

export const HOT_RATES = [200, 150, 100, 50];

export function rateOf(index: number): number {
  if (index < HOT_RATES.length) return HOT_RATES[index]!;
  // The long tail: 0.1 to 2 trades/s, spread evenly.
  return 0.1 + (((index * 37) % 97) / 96) * 1.9;
}

export async function startExchange(symbols: readonly string[], key: string): Promise<Exchange> {
  const trades = new Map(
    symbols.map((s) => [s, { ts: [] as number[], price: [] as number[], byPrice: new Map<number, number>() }]),
  );
  const walk = new Map(symbols.map((s, i) => [s, 100 + i]));
  let counter = 0;
  const record = (symbol: string, ts: number): { s: string; p: number; v: number; t: number } => {
    const w = walk.get(symbol)! * (1 + (Math.random() - 0.5) * 0.001);
    walk.set(symbol, w);
    // Unique per trade: the walk to the cent plus a counter in the 6th decimal.
    const p = Math.round((Math.round(w * 100) / 100 + (++counter % 9_999) / 1e6) * 1e6) / 1e6;
    const t = trades.get(symbol)!;
    t.byPrice.set(p, t.ts.length);
    t.ts.push(ts);
    t.price.push(p);
    return { s: symbol, p, v: 1, t: ts };
  };
  for (const s of symbols) record(s, Date.now());

  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const symbol = url.searchParams.get("symbol") ?? "";
    const t = trades.get(symbol);
    if (url.pathname !== "/api/v1/quote" || req.headers["x-finnhub-token"] !== key || !t) {
      res
        .writeHead(t ? 401 : 200, { "content-type": "application/json" })
        .end(JSON.stringify(t ? { error: "Invalid API key" } : { c: 0, t: 0 }));
      return;
    }
    const last = t.price.length - 1;
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        c: t.price[last],
        t: Math.floor(t.ts[last]! / 1000),
        o: 100,
        h: 1e6,
        l: 1,
        pc: 100,
        d: 0,
        dp: 0,
      }),
    );
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const subscribers = new Map<WebSocket, Set<string>>();
  wss.on("connection", (ws) => {
    const subs = new Set<string>();
    subscribers.set(ws, subs);
    ws.on("close", () => subscribers.delete(ws));
    ws.on("message", (data) => {
      try {
        const m = JSON.parse(String(data)) as { type?: string; symbol?: string };
        if (m.type === "subscribe" && m.symbol) subs.add(m.symbol);
        if (m.type === "unsubscribe" && m.symbol) subs.delete(m.symbol);
      } catch {
        // not ours
      }
    });
  });

  // Every 5 ms: each symbol's trades due by Poisson arrival, one message per connection.
  const rates = symbols.map((s, i) => [s, rateOf(i)] as const);
  const next = new Map(symbols.map((s, i) => [s, Date.now() + (-Math.log(1 - Math.random()) * 1000) / rateOf(i)]));

  const gap = (rate: number) => (-Math.log(1 - Math.random()) * 1000) / rate;
  const timer = setInterval(() => {
    const now = Date.now();
    const batch: Array<ReturnType<typeof record>> = [];
    for (const [s, rate] of rates) {
      let at = next.get(s)!;
      // A trade's time is when it is sent (at most 5 ms after it was due): latency counts from there.
      for (; at <= now; at += gap(rate)) batch.push(record(s, now));
      next.set(s, at);
    }
    if (batch.length === 0) return;
    for (const [ws, subs] of subscribers) {
      const data = batch.filter((t) => subs.has(t.s));
      if (data.length > 0) ws.send(JSON.stringify({ type: "trade", data }));
    }
  }, 5);
  const ping = setInterval(() => {
    for (const ws of subscribers.keys()) ws.send('{"type":"ping"}');
  }, 10_000);

  return {
    restUrl: `http://127.0.0.1:${(http.address() as { port: number }).port}`,
    streamUrl: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`,
    trades,
    tradesPerSecond: rates.reduce((n, [, r]) => n + r, 0),
    latest(symbol) {
      const t = trades.get(symbol)!;
      return { price: t.price.at(-1)!, ts: t.ts.at(-1)! };
    },
    async close() {
      clearInterval(timer);
      clearInterval(ping);
      for (const ws of subscribers.keys()) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
