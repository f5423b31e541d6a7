import { INTERVALS, type Interval, isInterval } from "../market/bars";

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

/** ISO 8601 / RFC 3339: a date, or a date and time with its offset (seconds and fraction optional). */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?)?$/;
const FORMS = "ISO 8601 (2026-12-04, 2026-12-04T14:30:00Z) or epoch seconds (10 digits) or milliseconds (13 digits)";

/**
 * One instant, or why not. Epoch numbers by their digits: 10 are seconds, 13 milliseconds (both
 * readings span 2001-2286, so neither can be taken for the other); any other length is refused, as
 * is a leading zero, except `0` itself. A time must give its offset: the same wall-clock time is a
 * different instant in New York (stocks, FX) and UTC (crypto days). A date alone is 00:00 UTC.
 */
function instant(raw: string): number | string {
  if (/^\d+$/.test(raw)) {
    if (raw === "0") return 0;
    if (/^[1-9]\d{9}$/.test(raw)) return Number(raw) * 1000;
    if (/^[1-9]\d{12}$/.test(raw)) return Number(raw);
    return `${raw} is neither epoch seconds (10 digits) nor milliseconds (13 digits)`;
  }
  const m = ISO.exec(raw);
  if (!m) return `use ${FORMS}`;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  const [year, month, day] = [Number(y), Number(mo), Number(d)];
  const at = new Date(0);
  // setUTCFullYear reads years 0-99 as written (Date.UTC adds 1900); a day past the month's end
  // (2026-02-30) rolls into the next month, which is how it is caught.
  at.setUTCFullYear(year, month - 1, day);
  if (at.getUTCMonth() !== month - 1 || at.getUTCDate() !== day) return `${raw.slice(0, 10)} is not a calendar date`;
  if (h === undefined) return at.getTime();
  if (z === undefined && sign === undefined) return `${raw} has no offset: add Z or one such as -05:00`;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59 || Number(oh ?? 0) > 23 || Number(om ?? 0) > 59)
    return `${raw} is not a valid time`;
  at.setUTCHours(Number(h), Number(mi), Number(s ?? 0), Number((frac ?? "").padEnd(3, "0").slice(0, 3)));
  const offsetMinutes = sign === undefined ? 0 : (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return at.getTime() - offsetMinutes * 60_000;
}

/** Parses the query (pure); a string is the one-line reason it is not valid. */
export function parseBarsQuery(q: Record<string, string | undefined>): BarsQuery | string {
  const interval = q.interval ?? "1m";
  if (!isInterval(interval)) return `interval must be one of ${INTERVALS.join(", ")}`;
  const from = q.from === undefined ? 0 : instant(q.from);
  if (typeof from === "string") return `from: ${from}`;
  const to = q.to === undefined ? undefined : instant(q.to);
  if (typeof to === "string") return `to: ${to}`;
  if (to !== undefined && to <= from) return "to must be after from";
  // Decimal digits only: Number() would also take 0x10, 1e3, " 5" and "5.0".
  const limit = q.limit === undefined ? MAX_BARS : /^\d{1,5}$/.test(q.limit) ? Number(q.limit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_BARS)) return `limit must be a decimal integer from 1 to ${MAX_BARS}`;
  return to === undefined ? { interval, from, limit } : { interval, from, to, limit };
}
