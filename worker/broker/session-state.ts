import type { Grant } from "../auth/grant";
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
