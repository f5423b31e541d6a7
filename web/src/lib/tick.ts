import type { Tick } from "../../../client/src/types";

/** A tick as the client library types it (the broker's own type: live, or delayed without a real-time entitlement). */
export type { Tick };

/** The marker the display rules ask for wherever a delayed price is shown ("Delayed 15 min"), or undefined for a live one. */
export function delayLabel(tick: Tick): string | undefined {
  if (!("delayed" in tick) || !tick.delayed) return undefined;
  // A provider's own delayed feed marks its ticks too (Alpaca delayed_sip), with its delay when known.
  const ms = tick.delayMs ?? 0;
  if (ms === 0) return "Delayed";
  return ms >= 60_000 ? `Delayed ${Math.round(ms / 60_000)} min` : `Delayed ${Math.round(ms / 1000)} s`;
}

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
