import type { StatusView } from "../../../worker/metrics/status";

export type { StatusView };

/**
 * The value below which a share `q` of the observations fall, from cumulative bucket
 * counts (as Prometheus's histogram_quantile does: linear within the bucket); undefined
 * without observations, the last bound when it lies above every bucket.
 */
export function quantile(
  q: number,
  bounds: readonly number[],
  cumulative: readonly number[],
  count: number,
): number | undefined {
  if (count === 0) return undefined;
  const rank = q * count;
  for (let i = 0; i < bounds.length; i++) {
    const upTo = cumulative[i] ?? 0;
    if (upTo >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const before = i === 0 ? 0 : (cumulative[i - 1] ?? 0);
      const inBucket = upTo - before;
      return inBucket === 0 ? bounds[i]! : lower + ((bounds[i]! - lower) * (rank - before)) / inBucket;
    }
  }
  return bounds.at(-1);
}

/** Per-second rates of each hub's transport messages between two refreshes (none on the first, or after a restart). */
export function messageRates(previous: StatusView | undefined, current: StatusView): Map<string, number> {
  const rates = new Map<string, number>();
  if (!previous) return rates;
  const seconds = (current.at - previous.at) / 1000;
  if (seconds <= 0) return rates;
  for (const hub of current.hubs) {
    const before = previous.hubs.find((h) => h.object === hub.object);
    if (!before || hub.transportMessages < before.transportMessages) continue; // restarted: counters began again
    rates.set(hub.object, (hub.transportMessages - before.transportMessages) / seconds);
  }
  return rates;
}

/** "0.4 s", "12 s", "3 min", "2 h": how long ago `at` was. */
export function age(at: number | undefined, now: number): string {
  if (at === undefined) return "–";
  const s = Math.max(0, (now - at) / 1000);
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

export function seconds(value: number | undefined): string {
  if (value === undefined) return "–";
  return value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
}
