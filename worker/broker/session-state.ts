import type { Grant } from "../auth/grant";
import type { AuthOptions } from "../auth/options";
import type { SymbolPolicy } from "../market/symbol-policy";
import type { StompVersion } from "../protocol/stomp/frame";
import type { StreamKind } from "./streams";

export type AckMode = "auto" | "client" | "client-individual";

/** Bounds of `x-throttle-ms` (the server refuses others; the widget keeps its attribute within them). */
export const MIN_THROTTLE_MS = 100;
export const MAX_THROTTLE_MS = 60_000;

/** A SEND here hands the connection a fresh token (its body) before the current one expires. */
export const TOKEN_DESTINATION = "/app/token";

export interface Subscription {
  id: string;
  /** `delayed` for a `/topic/ticker.*` subscription of a connection without a real-time entitlement. */
  stream: StreamKind;
  symbol: string;
  ack: AckMode;
  /** `x-throttle-ms`: at most one MESSAGE per this many ms, always the newest (conflation). */
  throttleMs?: number;
  /** How its MESSAGEs are written; absent: plain (the JSON body, every header). */
  form?: WireForm;
}

/**
 * `compact`: `x-format:compact`, short-key entries, a delta after the first. `batch`: one
 * symbol of a batch subscription (`/topic/tickers`, every symbol under the subscription's
 * one id): compact entries, a delivery round's in one MESSAGE.
 */
export type WireForm = "compact" | "batch";

/** What names a subscription in the write path: its id, and a batch's symbol too. */
export function conflationKey(sub: Subscription): string {
  // NUL never occurs in a STOMP header, so no id can look like another's symbol key.
  return sub.form === "batch" ? `${sub.id}\0${sub.symbol}` : sub.id;
}

/** A client's last position in a ticker stream (`x-since:<epoch>:<seq>`). */
export interface StreamPosition {
  epoch: string;
  seq: number;
}

/**
 * Everything a STOMP session must remember. Small and structured-clonable: it is
 * stored as the WebSocket attachment (≤ 16 KiB) so it survives hibernation.
 */
export interface SessionState {
  id: string;
  /** The client's address (for per-address limits on failed credentials). */
  address?: string;
  /** Negotiated on CONNECT; undefined until then. */
  version?: StompVersion;
  /** What the CONNECT token (or a later refresh) allows; none for an anonymous connection. */
  grant?: Grant;
  /** Negotiated heart-beat periods in ms: [client→server, server→client]; 0 = none. */
  heartbeat: [number, number];
  /**
   * When the client was last heard from (epoch ms), saved at most every half heart-beat
   * period: a hub woken from hibernation judges liveness from it, not from its own wake.
   */
  seenAt?: number;
  subs: Subscription[];
}

export function newSessionState(id: string, address?: string): SessionState {
  return { id, ...(address ? { address } : {}), heartbeat: [0, 0], subs: [] };
}

export interface SessionLimits {
  /** Which symbols may be subscribed to or published (any when absent). */
  symbols?: SymbolPolicy;
  maxFrameBytes: number;
  maxSubscriptions: number;
  /** Heart-beat period the server asks of clients (ms); 0 disables. */
  heartbeatMs: number;
  auth: Pick<AuthOptions, "mode" | "publicDelayMs">;
  /** STOMP frames a connection may send per second, and the burst above it (many may share one message). */
  inbound: { framesPerSecond: number; frameBurst: number };
  /** Ticks a connection may be replayed per minute (`x-since`). */
  replayBudget: number;
}

/** Where a session's frames go: a hub connection (any transport). */
export interface SessionTransport {
  /** A control frame (CONNECTED, RECEIPT, ERROR): written at once, after anything queued. */
  send(text: string): void;
  /**
   * A MESSAGE frame of subscription `sub.key`: queued, and written together with the
   * others of its delivery turn. With `sub.everyMs` (or once the connection is over its
   * outbound budget) at most one per interval leaves for the subscription: the newest, and
   * the last of a burst always follows. It is rendered as it leaves, so a MESSAGE replaced
   * before then is never rendered.
   */
  queue(render: Render, sub: Conflation): void;
  /** Drops a MESSAGE still held back for `sub` (the subscription ended), and its batch's gathered entries. */
  discard(sub: Conflation): void;
  close(code: number, reason: string): void;
  /** Persist `state` so the session survives the object being evicted. */
  save(state: SessionState): void;
  /** The session ends with an ERROR frame of this catalogue code (metrics). */
  failed?(code: string): void;
}

/**
 * A MESSAGE (or a batch's entry) rendered as it leaves. `skipped`: how many earlier ones of
 * its subscription the connection's outbound budget replaced (never a throttled
 * subscription's): the text marks that gap in its own form.
 */
export type Render = (skipped: number) => string;

/** Which subscription a MESSAGE belongs to, and its `x-throttle-ms` if any. */
export interface Conflation {
  key: string;
  everyMs?: number;
  /** A batch's symbol: what is queued is an entry, gathered with the round's others into one MESSAGE. */
  batch?: Batch;
}

/** One batch subscription in the write path: makes the MESSAGE of a round's entries. */
export interface Batch {
  close(entries: readonly string[]): string;
}

/**
 * What a presented credential (a subscriber token, or the shared publish token) from a
 * client address allows; a TokenError with the reason, or Throttled after too many failures.
 */
export type Authenticate = (credential: string, address: string) => Promise<Grant>;
