import type { Tick } from "./tick";

const cache = new Map<number, Intl.NumberFormat>();

function formatter(digits: number): Intl.NumberFormat {
  let f = cache.get(digits);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    cache.set(digits, f);
  }
  return f;
}

/** Decimal places a price of this size needs (FX and sub-dollar prices need more). */
function digitsFor(price: number): number {
  const p = Math.abs(price);
  return p < 1 ? 5 : p < 10 ? 4 : 2;
}

export function formatPrice(tick: Pick<Tick, "price">): string {
  return formatter(digitsFor(tick.price)).format(tick.price);
}

/** The change, signed, at the precision of the price it belongs to. */
export function formatChange(tick: Pick<Tick, "change" | "price">): string {
  const sign = tick.change > 0 ? "+" : tick.change < 0 ? "−" : "";
  return sign + formatter(digitsFor(tick.price)).format(Math.abs(tick.change));
}

export function formatPercent(tick: Pick<Tick, "changePercent">): string {
  const v = tick.changePercent;
  const sign = v > 0 ? "+" : v < 0 ? "−" : "";
  return `${sign}${Math.abs(v).toFixed(2)}%`;
}

export function direction(tick: Pick<Tick, "change">): "up" | "down" | "flat" {
  return tick.change > 0 ? "up" : tick.change < 0 ? "down" : "flat";
}

/** "3 s ago" style age, for a person reading the connection panel. */
export function formatAge(ms: number): string {
  if (ms < 1000) return "just now";
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  return `${Math.round(ms / 60_000)} min ago`;
}
