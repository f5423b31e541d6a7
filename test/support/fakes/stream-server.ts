import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { Market, MarketTrade } from "./market";
import {
  DEFAULT_BEHAVIOUR,
  type DialectContext,
  type StreamBehaviour,
  type StreamConnection,
  type StreamDialect,
} from "./stream-dialect";

/**
 * The WebSocket half of a fake provider on 127.0.0.1: connections, who they authenticated
 * as, what they subscribed, and the unkind things a provider does (refuse a symbol, stay
 * silent for one, drop every connection, go mute, answer slowly, refuse a second connection
 * for a key, ping). The provider's own protocol is its dialect (dialects/*.ts); this part
 * keeps the truth tests read: every upgrade attempt, every connection, the most connections
 * one key held authenticated at once, every message received, every trade delivered.
 */
export interface Attempt {
  /** Real clock (ms). */
  at: number;
  path: string;
  /** What happened to it: refused at the upgrade, or accepted. */
  outcome: "refused" | "accepted";
}

export interface SecondConnection {
  at: number;
  key: string;
  connection: number;
}

export interface StreamTruth {
  /** Every upgrade attempt, in order (real clock). */
  attempts: Attempt[];
  /** Every connection ever accepted. */
  connections: StreamConnection[];
  /** Every message a client sent. */
  received: Array<{ at: number; connection: number; text: string }>;
  /** Every trade delivered, per connection. */
  delivered: Array<{ connection: number; trade: MarketTrade }>;
  /** Authentications tried while the key already held an authenticated connection. */
  secondConnections: SecondConnection[];
  /** The most authenticated connections one key held at once. */
  maxAuthenticated: Map<string, number>;
}

export interface FakeStreamServer {
  url: string;
  /** The keys (and secrets) the stream accepts: delete one to revoke it on the stream only. */
  credentials: Map<string, string>;
  behaviour: StreamBehaviour;
  truth: StreamTruth;
  /** Open connections. */
  open(): StreamConnection[];
  /** Provider symbols subscribed on open connections. */
  subscribed(): Set<string>;
  /** Closes every connection at once (`terminate`: without a close frame). */
  closeAll(how?: "terminate" | "close"): void;
  /** Raw text to every open connection (garbage, truncated JSON). */
  raw(text: string): void;
  /** A quote to the connections subscribed to `symbol` (dialects that stream quotes). */
  quote(symbol: string, bid: number, ask: number): void;
  /** Sends a dialect message to every open connection. */
  broadcast(message: unknown): void;
  close(): Promise<void>;
}

export async function startStreamServer(
  dialect: StreamDialect,
  market: Market,
  accepted: ReadonlyMap<string, string>,
  behaviour: Partial<StreamBehaviour> = {},
): Promise<FakeStreamServer> {
  const credentials = new Map(accepted);
  const b: StreamBehaviour = {
    ...DEFAULT_BEHAVIOUR,
    refused: new Set(),
    silent: new Set(),
    ...behaviour,
  };
  const truth: StreamTruth = {
    attempts: [],
    connections: [],
    received: [],
    delivered: [],
    secondConnections: [],
    maxAuthenticated: new Map(),
  };
  const live = new Set<StreamConnection>();
  const pending = new Map<StreamConnection, MarketTrade[]>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const authenticatedFor = (key: string) => [...live].filter((c) => c.key === key && c.authenticatedAt !== undefined);

  const ctx: DialectContext = {
    market,
    behaviour: b,
    credentials,
    send(c, message) {
      if (b.muted || c.ws.readyState !== c.ws.OPEN) return;
      c.ws.send(typeof message === "string" ? message : JSON.stringify(message));
    },
    answer(c, message) {
      if (b.answerDelayMs > 0) later(b.answerDelayMs, () => ctx.send(c, message));
      else ctx.send(c, message);
    },
    close(c, code, reason) {
      const send = () => {
        if (c.ws.readyState === c.ws.OPEN) c.ws.close(code, reason);
      };
      // A refusal goes out before the close, however late answers are.
      if (b.answerDelayMs > 0) later(b.answerDelayMs, send);
      else send();
    },
    authenticate(c, key) {
      c.key = key;
      const others = authenticatedFor(key).filter((o) => o !== c);
      if (others.length > 0) {
        if (!truth.secondConnections.some((s) => s.connection === c.id))
          truth.secondConnections.push({ at: Date.now(), key, connection: c.id });
        if (b.oneConnectionPerKey) return false;
      }
      c.authenticatedAt = market.now();
      truth.maxAuthenticated.set(key, Math.max(truth.maxAuthenticated.get(key) ?? 0, authenticatedFor(key).length));
      if (b.mode === "drop-after-auth") later(b.dropAfterMs, () => c.ws.terminate());
      return true;
    },
    admit(key) {
      if (authenticatedFor(key).length === 0) return true;
      truth.secondConnections.push({ at: Date.now(), key, connection: truth.connections.length + 1 });
      return !b.oneConnectionPerKey;
    },
    subscribe(c, symbols) {
      const added = symbols.filter((s) => !c.subscribed.has(s));
      for (const s of symbols) c.subscribed.add(s);
      if (b.snapshotOnSubscribe && dialect.snapshot && added.length > 0)
        for (const m of dialect.snapshot(c, added, ctx)) ctx.send(c, m);
      return added;
    },
    unsubscribe(c, symbols) {
      for (const s of symbols) c.subscribed.delete(s);
    },
  };

  const flush = (c: StreamConnection) => {
    const trades = pending.get(c) ?? [];
    pending.delete(c);
    if (trades.length === 0 || b.muted || c.ws.readyState !== c.ws.OPEN) return;
    for (const t of trades) truth.delivered.push({ connection: c.id, trade: t });
    for (const m of dialect.trades(c, trades, ctx)) ctx.send(c, m);
  };

  const stopListening = market.listen((trade) => {
    if (b.silent.has(trade.symbol)) return;
    for (const c of live) {
      if (!c.subscribed.has(trade.symbol) || c.authenticatedAt === undefined) continue;
      const queue = pending.get(c);
      if (queue) {
        queue.push(trade);
        continue;
      }
      pending.set(c, [trade]);
      if (dialect.batchMs > 0) later(dialect.batchMs, () => flush(c));
      else queueMicrotask(() => flush(c));
    }
  });

  const http: Server = createServer((_req, res) => res.writeHead(426).end("upgrade required"));
  const wss = new WebSocketServer({ noServer: true });
  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = req.url ?? "/";
    const refuse = (status: number, body: string) => {
      truth.attempts.push({ at: Date.now(), path, outcome: "refused" });
      socket.end(
        `HTTP/1.1 ${status} ${status === 429 ? "Too Many Requests" : status === 401 ? "Unauthorized" : "Service Unavailable"}\r\n` +
          `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (b.mode === "refuse-upgrade") return refuse(503, "service unavailable");
    const refusal = dialect.upgrade?.(req, ctx);
    if (refusal) return refuse(refusal.status, refusal.body);
    truth.attempts.push({ at: Date.now(), path, outcome: "accepted" });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: StreamConnection = {
        id: truth.connections.length + 1,
        path,
        openedAt: market.now(),
        subscribed: new Set(),
        state: {},
        ws,
      };
      truth.connections.push(c);
      live.add(c);
      let lastPong = Date.now();
      ws.on("pong", () => {
        lastPong = Date.now();
      });
      const pinger =
        b.protocolPingMs > 0
          ? setInterval(() => {
              if (Date.now() - lastPong > b.pongTimeoutMs) return ws.terminate();
              ws.ping();
            }, b.protocolPingMs)
          : undefined;
      const appPinger =
        b.appPingMs > 0 && dialect.ping
          ? setInterval(() => {
              const ping = dialect.ping?.(c, ctx);
              if (ping !== undefined) ctx.send(c, ping);
            }, b.appPingMs)
          : undefined;
      const ticker = dialect.tick ? setInterval(() => dialect.tick?.(c, ctx), 1_000) : undefined;
      ws.on("close", () => {
        c.closedAt = market.now();
        live.delete(c);
        pending.delete(c);
        clearInterval(pinger);
        clearInterval(appPinger);
        clearInterval(ticker);
      });
      ws.on("message", (data) => {
        const text = String(data);
        truth.received.push({ at: Date.now(), connection: c.id, text });
        dialect.message(c, text, ctx);
      });
      dialect.open(c, req, ctx);
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const port = (http.address() as { port: number }).port;

  return {
    url: `ws://127.0.0.1:${port}`,
    credentials,
    behaviour: b,
    truth,
    open: () => [...live],
    subscribed: () => new Set([...live].flatMap((c) => [...c.subscribed])),
    closeAll(how = "terminate") {
      for (const c of [...live]) {
        if (how === "terminate") c.ws.terminate();
        else c.ws.close(1001, "going away");
      }
    },
    raw(text) {
      for (const c of live) if (c.ws.readyState === c.ws.OPEN) c.ws.send(text);
    },
    quote(symbol, bid, ask) {
      for (const c of live) {
        if (!c.subscribed.has(symbol) || !dialect.quote) continue;
        const m = dialect.quote(c, symbol, bid, ask, market.now() - market.delayMs);
        if (m !== undefined) ctx.send(c, m);
      }
    },
    broadcast(message) {
      for (const c of live) ctx.send(c, message);
    },
    close: () =>
      new Promise<void>((r) => {
        stopListening();
        for (const t of timers) clearTimeout(t);
        for (const c of live) c.ws.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => r());
      }),
  };
}
