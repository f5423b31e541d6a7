import { INTERVAL_MS, INTERVALS, type Interval, isInterval } from "../market/bars";

/** Most bars one `/api/bars` answer holds (and its default). */
export const MAX_BARS = 10_000;

/** A parsed `/api/bars` query: bars of `interval` starting in `[from, to)`, the newest `limit`. */
export interface BarsQuery {
  interval: Interval;
  from: number;
  /** Absent: up to now (an open range, never cached). */
  to?: number;
  limit: number;
}

/** ISO 8601 (`2026-12-04`, `2026-12-04T14:30:00Z`) or epoch milliseconds. */
function instant(raw: string): number | undefined {
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)) return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Parses the query (pure); a string is the one-line reason it is not valid. */
export function parseBarsQuery(q: Record<string, string | undefined>): BarsQuery | string {
  const interval = q.interval ?? "1m";
  if (!isInterval(interval)) return `interval must be one of ${INTERVALS.join(", ")}`;
  const from = q.from === undefined ? 0 : instant(q.from);
  if (from === undefined) return "from must be an ISO 8601 time (2026-12-04T14:30:00Z) or epoch milliseconds";
  const to = q.to === undefined ? undefined : instant(q.to);
  if (q.to !== undefined && to === undefined)
    return "to must be an ISO 8601 time (2026-12-04T21:00:00Z) or epoch milliseconds";
  if (to !== undefined && to <= from) return "to must be after from";
  const limit = q.limit === undefined ? MAX_BARS : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BARS)
    return `limit must be an integer from 1 to ${MAX_BARS}`;
  return to === undefined ? { interval, from, limit } : { interval, from, to, limit };
}

/**
 * Whether every bar such a query can return had ended, and was visible, by `visibleAt`:
 * final bars never change, so the answer can be cached for good.
 */
export function isClosedRange(query: BarsQuery, visibleAt: number): boolean {
  return query.to !== undefined && query.to + INTERVAL_MS[query.interval] <= visibleAt;
}
