import type { Tick } from "../../../worker/market/tick";

/** The MESSAGE body: the broker's own type, so the page and the worker cannot drift apart. */
export type { Tick };

/** How old a tick may be before a row is marked stale. */
export const STALE_AFTER_MS = 15_000;

export function isStale(tick: Tick, now = Date.now()): boolean {
  return tick.stale === true || now - tick.ts > STALE_AFTER_MS;
}
