import type { Tick } from "./tick";

/**
 * Delayed market data: exchanges let the public see prices only once they are a set time
 * old (15 minutes for NYSE/Nasdaq), marked as delayed wherever shown. Pure.
 */
export interface DelayedTick extends Tick {
  delayed: true;
  delayMs: number;
}

export function markDelayed(tick: Tick, delayMs: number): DelayedTick {
  return { ...tick, delayed: true, delayMs };
}

/**
 * Whether the public may see a tick at `now` that reached this server at `arrivedAt`.
 * Exchanges count the delay from dissemination, not from the trade's own time: a quote
 * that arrives late (a slow feed, a backdated publish) still waits the whole delay.
 */
export function isReleased(arrivedAt: number, delayMs: number, now: number): boolean {
  return arrivedAt <= now - delayMs;
}
