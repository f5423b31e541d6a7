import type { SessionState } from "../broker/session-state";
import type { Connection } from "./connection";

/** How long past two missed heart-beat periods a client still counts as alive. */
const GRACE_MS = 2_000;

/**
 * Whether a socket's client is silent at `now`: its negotiated heart-beats stopped for two
 * periods plus the grace. It was last heard from at the later of the runtime's auto-response
 * (a heart-beat, answered without waking the hub) and `seenAt` (any other frame, kept in the
 * socket's attachment, so a hub woken from hibernation never takes its wake for a sign of life).
 */
export function isSilent(state: SessionState, echoedAt: number, now: number): boolean {
  const period = state.heartbeat[0];
  return period > 0 && now - Math.max(echoedAt, state.seenAt ?? 0) > 2 * period + GRACE_MS;
}

/**
 * Notes that a client sent a frame; true when the state should be saved (at most every half
 * heart-beat period: one attachment write per period, not per message).
 */
export function noteHeard(state: SessionState, now: number): boolean {
  const period = state.heartbeat[0];
  if (period === 0 || (state.seenAt !== undefined && now - state.seenAt < period / 2)) return false;
  state.seenAt = now;
  return true;
}

/**
 * When the next liveness sweep is due from `now`: while any socket needs one (SockJS sockets
 * get `h` frames; others are watched when they negotiated heart-beats), every heart-beat
 * period, at least a second apart; never (Infinity) when none does, so an idle hub sleeps.
 */
export function nextSweepAt(
  connections: Iterable<Connection>,
  periods: { heartbeatMs: number; sockjsHeartbeatMs: number },
  now: number,
): number {
  for (const c of connections) {
    if (c.kind === "sockjs-socket" || (c.kind === "stomp-socket" && (c.session?.state.heartbeat[0] ?? 0) > 0)) {
      const heartbeat = periods.heartbeatMs > 0 ? periods.heartbeatMs : Number.POSITIVE_INFINITY;
      return now + Math.max(1_000, Math.min(heartbeat, periods.sockjsHeartbeatMs));
    }
  }
  return Number.POSITIVE_INFINITY;
}
