import type { IncomingMessage } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";
import { GOOD_KEY } from "./fake-providers";

/**
 * SUPERSEDED by test/support/fakes (provider-faithful fakes driven by a market's truth); kept
 * only for tests written against it meanwhile. New tests use startFakeProvider.
 *
 * A WebSocket server on 127.0.0.1 speaking a provider's documented stream protocol (Finnhub,
 * Alpaca, Coinbase Advanced Trade, Binance combined streams): authentication and its
 * acknowledgements, subscribe/unsubscribe, trades and quotes, pings/heartbeats, errors
 * (bad key, Alpaca's connection limit), forced closes, garbage and truncated JSON. The test
 * drives it: `trade()` pushes a trade to every connection subscribed to the symbol, `kill()`
 * drops every connection without a close frame, `silence()` keeps them open but mute.
 */
/** Alpaca's secret key (the REST fake accepts the same). */
export const GOOD_SECRET = "good-secret";

export type StreamProvider = "finnhub" | "alpaca" | "coinbase" | "binance";

export interface ReceivedMessage {
  at: number;
  connection: number;
  text: string;
}

export interface FakeStream {
  url: string;
  provider: StreamProvider;
  /** Every message a client sent, in order. */
  received: ReceivedMessage[];
  /** Connections opened so far (each gets a number). */
  connections: number;
  /** Provider symbols subscribed on the current connections. */
  subscribed(): Set<string>;
  /** Refuse the key from now on (the provider's own way). */
  rejectKey: boolean;
  /** Alpaca: answer authentication with 406 connection limit exceeded. */
  connectionLimit: boolean;
  trade(symbol: string, price: number, size: number, ts: number): void;
  quote(symbol: string, bid: number, ask: number, ts: number): void;
  /** Raw text to every open connection (garbage, truncated JSON). */
  raw(text: string): void;
  kill(): void;
  silence(on: boolean): void;
  close(): Promise<void>;
}

interface Conn {
  ws: WebSocket;
  id: number;
  symbols: Set<string>;
  authenticated: boolean;
}

export async function startFakeStream(provider: StreamProvider): Promise<FakeStream> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const port = (wss.address() as { port: number }).port;
  const conns = new Set<Conn>();
  let sequence = 0;
  let silent = false;
  const fake: FakeStream = {
    url: `ws://127.0.0.1:${port}${provider === "alpaca" ? "/v2/{feed}" : provider === "binance" ? "/stream" : "/"}`,
    provider,
    received: [],
    connections: 0,
    rejectKey: false,
    connectionLimit: false,
    subscribed: () => new Set([...conns].flatMap((c) => [...c.symbols])),
    trade(symbol, price, size, ts) {
      for (const c of conns) if (c.symbols.has(symbol)) send(c, tradeMessage(symbol, price, size, ts));
    },
    quote(symbol, bid, ask, ts) {
      for (const c of conns) if (c.symbols.has(symbol)) send(c, quoteMessage(symbol, bid, ask, ts));
    },
    raw(text) {
      for (const c of conns) c.ws.send(text);
    },
    kill() {
      for (const c of conns) c.ws.terminate();
      conns.clear();
    },
    silence(on) {
      silent = on;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.ws.terminate();
        wss.close(() => r());
      }),
  };

  const send = (c: Conn, message: unknown) => {
    if (silent || c.ws.readyState !== c.ws.OPEN) return;
    const withSeq = provider === "coinbase" ? { ...(message as object), sequence_num: sequence++ } : message;
    c.ws.send(JSON.stringify(withSeq));
  };

  const tradeMessage = (symbol: string, price: number, size: number, ts: number): unknown => {
    switch (provider) {
      case "finnhub":
        return { type: "trade", data: [{ s: symbol, p: price, v: size, t: ts, c: ["1"] }] };
      case "alpaca":
        return [
          { T: "t", S: symbol, i: ts, x: "V", p: price, s: size, t: new Date(ts).toISOString(), c: ["@"], z: "C" },
        ];
      case "coinbase":
        return {
          channel: "market_trades",
          client_id: "",
          timestamp: new Date().toISOString(),
          events: [
            {
              type: "update",
              trades: [
                {
                  trade_id: String(ts),
                  product_id: symbol,
                  price: String(price),
                  size: String(size),
                  side: "BUY",
                  time: new Date(ts).toISOString(),
                },
              ],
            },
          ],
        };
      case "binance":
        return {
          stream: `${symbol.toLowerCase()}@trade`,
          data: { e: "trade", E: ts, s: symbol, t: ts, p: String(price), q: String(size), T: ts, m: false, M: true },
        };
    }
  };

  const quoteMessage = (symbol: string, bid: number, ask: number, ts: number): unknown => {
    switch (provider) {
      case "finnhub":
        return { type: "ping" }; // Finnhub's free stream carries trades only
      case "alpaca":
        return [
          {
            T: "q",
            S: symbol,
            bx: "V",
            bp: bid,
            bs: 1,
            ax: "V",
            ap: ask,
            as: 1,
            t: new Date(ts).toISOString(),
            c: ["R"],
            z: "C",
          },
        ];
      case "coinbase":
        return {
          channel: "ticker",
          timestamp: new Date(ts).toISOString(),
          events: [
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
          ],
        };
      case "binance":
        return {
          stream: `${symbol.toLowerCase()}@bookTicker`,
          data: { u: ts, s: symbol, b: String(bid), B: "1", a: String(ask), A: "1" },
        };
    }
  };

  // Keep-alives the providers send: Finnhub's ping message, Coinbase's heartbeats channel.
  const keepAlive = setInterval(() => {
    for (const c of conns) {
      if (provider === "finnhub") send(c, { type: "ping" });
      if (provider === "coinbase" && c.symbols.size > 0)
        send(c, {
          channel: "heartbeats",
          client_id: "",
          timestamp: new Date().toISOString(),
          events: [{ current_time: new Date().toISOString(), heartbeat_counter: sequence }],
        });
    }
  }, 500);
  wss.on("close", () => clearInterval(keepAlive));

  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const c: Conn = { ws, id: ++fake.connections, symbols: new Set(), authenticated: provider !== "alpaca" };
    conns.add(c);
    ws.on("close", () => conns.delete(c));
    const url = new URL(req.url ?? "/", "http://x");
    if (provider === "finnhub" && (fake.rejectKey || url.searchParams.get("token") !== GOOD_KEY)) {
      ws.send(JSON.stringify({ type: "error", msg: "Invalid API key" }));
      ws.close(1008, "unauthorized");
      return;
    }
    if (provider === "alpaca") ws.send(JSON.stringify([{ T: "success", msg: "connected" }]));
    ws.on("message", (data) => {
      const text = String(data);
      fake.received.push({ at: Date.now(), connection: c.id, text });
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      handle(c, m);
    });
  });

  const handle = (c: Conn, m: Record<string, unknown>) => {
    switch (provider) {
      case "finnhub":
        if (m.type === "subscribe") c.symbols.add(String(m.symbol));
        if (m.type === "unsubscribe") c.symbols.delete(String(m.symbol));
        return;
      case "alpaca": {
        if (m.action === "auth") {
          if (fake.connectionLimit)
            return void c.ws.send(JSON.stringify([{ T: "error", code: 406, msg: "connection limit exceeded" }]));
          if (fake.rejectKey || m.key !== GOOD_KEY || m.secret !== GOOD_SECRET) {
            c.ws.send(JSON.stringify([{ T: "error", code: 402, msg: "auth failed" }]));
            return void c.ws.close(1008);
          }
          c.authenticated = true;
          return void c.ws.send(JSON.stringify([{ T: "success", msg: "authenticated" }]));
        }
        if (!c.authenticated)
          return void c.ws.send(JSON.stringify([{ T: "error", code: 401, msg: "not authenticated" }]));
        const trades = Array.isArray(m.trades) ? (m.trades as string[]) : [];
        if (m.action === "subscribe") for (const s of trades) c.symbols.add(s);
        if (m.action === "unsubscribe") for (const s of trades) c.symbols.delete(s);
        return void c.ws.send(
          JSON.stringify([{ T: "subscription", trades: [...c.symbols], quotes: [...c.symbols], bars: [] }]),
        );
      }
      case "coinbase": {
        const ids = Array.isArray(m.product_ids) ? (m.product_ids as string[]) : [];
        if (m.channel !== "market_trades") return;
        if (m.type === "subscribe") for (const s of ids) c.symbols.add(s);
        if (m.type === "unsubscribe") for (const s of ids) c.symbols.delete(s);
        return send(c, {
          channel: "subscriptions",
          client_id: "",
          timestamp: new Date().toISOString(),
          events: [{ subscriptions: { market_trades: [...c.symbols] } }],
        });
      }
      case "binance": {
        const params = Array.isArray(m.params) ? (m.params as string[]) : [];
        for (const p of params) {
          const [name, stream] = p.split("@");
          if (stream !== "trade") continue;
          if (m.method === "SUBSCRIBE") c.symbols.add(name!.toUpperCase());
          if (m.method === "UNSUBSCRIBE") c.symbols.delete(name!.toUpperCase());
        }
        return void c.ws.send(JSON.stringify({ result: null, id: m.id }));
      }
    }
  };

  return fake;
}
