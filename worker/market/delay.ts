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

/** Whether the public may see `tick` at `now`: it is at least `delayMs` old. */
export function isReleased(tick: Tick, delayMs: number, now: number): boolean {
  return tick.ts <= now - delayMs;
}
