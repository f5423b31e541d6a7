import { reconnectDelay } from "./backoff";
import type { Carrier } from "./carrier";
import type { EdgeTickerError } from "./errors";

/** Why an open connection (or an attempt) ended; the client reconnects. */
export type DropReason =
  /** The socket closed: a restart, a deploy, the network (`code` is the WebSocket close code). */
  | { kind: "closed"; code: number }
  /** Nothing answered a heart-beat within the grace period: the server or the path to it is gone. */
  | { kind: "silent" }
  /** The server ended the connection with an ERROR. */
  | { kind: "error"; error: EdgeTickerError };

/** Why the client gave up; it does not reconnect by itself. */
export type StopReason =
  /** `close()` was called. */
  | { kind: "closed" }
  /** The host refuses this site (its origin is not in ALLOWED_ORIGINS). */
  | { kind: "not-enabled" }
  /** The server refused what retrying cannot change (a fixed token it does not accept). */
  | { kind: "error"; error: EdgeTickerError };

/** The connection, one state at a time. */
export type ConnectionState =
  /** Not started yet, or between a transport switch's close and its first attempt. */
  | { kind: "idle" }
  /** An attempt is under way over `carrier`; `failures`: attempts in a row that failed before it. */
  | { kind: "connecting"; carrier: Carrier; failures: number }
  /**
   * Connected. `transport`: "websocket", or the SockJS transport in use ("xhr-streaming", ...).
   * `resumed`: this connection continues an earlier one: every stream goes on from its last
   * position, what was missed arriving first, or a `gap` event saying what could not be.
   */
  | { kind: "open"; transport: string; resumed: boolean }
  /** Down; the next attempt starts at `retryAt` (or at once on `retryNow()`, `online`, the tab shown). */
  | { kind: "reconnecting"; failures: number; retryAt: number; why: DropReason }
  | { kind: "stopped"; why: StopReason };

/** After this many failures in a row the connection reads as failed (it keeps retrying, slowly). */
export const FAILED_AFTER = 6;

export function isFailing(state: ConnectionState): boolean {
  return state.kind === "reconnecting" && state.failures >= FAILED_AFTER;
}

/** Failures in a row so far: the count an attempt carries on. */
function failuresOf(state: ConnectionState): number {
  return state.kind === "reconnecting" || state.kind === "connecting" ? state.failures : 0;
}

/** An attempt starts (pure). */
export function attempting(state: ConnectionState, carrier: Carrier): ConnectionState {
  return { kind: "connecting", carrier, failures: failuresOf(state) };
}

/**
 * The connection or attempt ended (pure). A `failed` one (an attempt that never opened, a
 * connection the server ended with an error of its own) counts as one more failure: the
 * backoff widens. A connection that was fine and dropped starts over at the first window,
 * spread so that a restart's clients do not all come back at once. Idle and stopped stay
 * as they are: their close was asked for.
 */
export function dropped(
  state: ConnectionState,
  why: DropReason,
  failed: boolean,
  now: number,
  random: () => number = Math.random,
): ConnectionState {
  if (state.kind === "idle" || state.kind === "stopped") return state;
  const failures = failed ? failuresOf(state) + 1 : 0;
  return { kind: "reconnecting", failures, retryAt: now + reconnectDelay(failures, random), why };
}
