/** A tick as the broker sends it (the MESSAGE body). */
export interface Tick {
  symbol: string;
  price: number;
  change: number;
  changePercent: number;
  ts: number;
  seq: number;
  source: string;
  prevClose?: number;
  open?: number;
  high?: number;
  low?: number;
  volume?: number;
  bid?: number;
  ask?: number;
  currency?: string;
  marketState?: "PRE" | "REGULAR" | "POST" | "CLOSED";
  stale?: boolean;
}

/** How old a tick may be before a row is marked stale. */
export const STALE_AFTER_MS = 15_000;

export function isStale(tick: Tick, now = Date.now()): boolean {
  return tick.stale === true || now - tick.ts > STALE_AFTER_MS;
}
