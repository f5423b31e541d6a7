import type { Tick } from "../../../worker/market/tick";

/** The MESSAGE body: the broker's own type, so the page and the worker cannot drift apart. */
export type { Tick };

/** The server's own default (STALE_AFTER_MS), for ticks that do not say. */
const DEFAULT_STALE_AFTER_MS = 60_000;

/**
 * Whether a price shown since `receivedAt` is stale: the server said so, or no newer tick
 * came within the tick's own `staleAfterMs`, the same threshold the server applies (it
 * widens for feeds that the request budget makes poll slowly).
 */
export function isStale(tick: Tick, receivedAt: number, now = Date.now()): boolean {
  return tick.stale === true || now - receivedAt > (tick.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
}
