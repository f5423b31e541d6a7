import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import type { Market, MarketTrade } from "./market";

/**
 * What a provider's stream protocol (its dialect: dialects/*.ts) sees of the fake's
 * WebSocket server: one connection, the behaviours the test set, and the context to answer,
 * authenticate and subscribe through (the server keeps the truth of it).
 */
export interface StreamConnection {
  id: number;
  /** The request path and query the client opened. */
  path: string;
  /** The key it presented (authenticated or not); undefined before it did. */
  key?: string;
  openedAt: number;
  authenticatedAt?: number;
  closedAt?: number;
  /** The provider's symbol names subscribed (trades). */
  subscribed: Set<string>;
  /** The dialect's own per-connection state. */
  state: Record<string, unknown>;
  ws: WebSocket;
}

export type StreamMode =
  /** As the provider behaves on a good day. */
  | "normal"
  /** Upgrades answered with HTTP 503 (the provider is down). */
  | "refuse-upgrade"
  /** Connections authenticate, then close `dropAfterMs` later (a flapping provider). */
  | "drop-after-auth";

export interface StreamBehaviour {
  mode: StreamMode;
  dropAfterMs: number;
  /** Provider symbols whose subscriptions are refused, the provider's way. */
  refused: Set<string>;
  /** Provider symbols acknowledged and then never streamed (an unknown symbol, or one the feed does not carry). */
  silent: Set<string>;
  /** Nothing at all goes out (data, acknowledgements, application pings); connections stay open. */
  muted: boolean;
  /** Control answers (authentication, acknowledgements) wait this long. */
  answerDelayMs: number;
  /** A second authenticated connection for one key is refused (the provider's way). */
  oneConnectionPerKey: boolean;
  /** Replay recent trades when a symbol is subscribed (Coinbase market_trades). */
  snapshotOnSubscribe: boolean;
  /** Application-level ping every this many ms (0: none). */
  appPingMs: number;
  /** Protocol-level ping frames every this many ms (0: none); a client that does not pong within `pongTimeoutMs` is dropped. */
  protocolPingMs: number;
  pongTimeoutMs: number;
}

export interface DialectContext {
  readonly market: Market;
  readonly behaviour: StreamBehaviour;
  /** The keys (and secrets) the provider accepts. */
  readonly credentials: ReadonlyMap<string, string>;
  /** Sends a message now (unless muted). */
  send(c: StreamConnection, message: unknown): void;
  /** Sends a control answer (after `answerDelayMs`, unless muted). */
  answer(c: StreamConnection, message: unknown): void;
  close(c: StreamConnection, code: number, reason: string): void;
  /**
   * Marks `c` authenticated as `key`; false when the key already holds an authenticated
   * connection and the provider allows one (the caller refuses it its way). Recorded either way.
   */
  authenticate(c: StreamConnection, key: string): boolean;
  /**
   * Before an upgrade that authenticates by URL: false when `key` already holds an
   * authenticated connection and the provider allows one (recorded either way).
   */
  admit(key: string): boolean;
  subscribe(c: StreamConnection, symbols: readonly string[]): string[];
  unsubscribe(c: StreamConnection, symbols: readonly string[]): void;
}

export interface StreamDialect {
  readonly name: string;
  /** Trades are held and sent together every this many ms (0: at once). */
  readonly batchMs: number;
  /** Before the upgrade: an HTTP refusal, or undefined to accept. */
  upgrade?(req: IncomingMessage, ctx: DialectContext): { status: number; body: string } | undefined;
  open(c: StreamConnection, req: IncomingMessage, ctx: DialectContext): void;
  message(c: StreamConnection, text: string, ctx: DialectContext): void;
  /** The messages carrying `trades` (all subscribed on `c`). */
  trades(c: StreamConnection, trades: readonly MarketTrade[], ctx: DialectContext): unknown[];
  /** Messages replaying recent trades of newly subscribed symbols (snapshotOnSubscribe). */
  snapshot?(c: StreamConnection, symbols: readonly string[], ctx: DialectContext): unknown[];
  /** The application-level ping, if the provider has one. */
  ping?(c: StreamConnection, ctx: DialectContext): unknown;
  /** A best bid/offer update, if the dialect streams quotes. */
  quote?(c: StreamConnection, symbol: string, bid: number, ask: number, ts: number): unknown;
  /** Subscription state of `c` that outlives trades (Coinbase heartbeats). */
  tick?(c: StreamConnection, ctx: DialectContext): void;
}

export const DEFAULT_BEHAVIOUR: StreamBehaviour = {
  mode: "normal",
  dropAfterMs: 200,
  refused: new Set(),
  silent: new Set(),
  muted: false,
  answerDelayMs: 0,
  oneConnectionPerKey: true,
  snapshotOnSubscribe: false,
  appPingMs: 0,
  protocolPingMs: 0,
  pongTimeoutMs: 60_000,
};
