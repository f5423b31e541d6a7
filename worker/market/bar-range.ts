import { bucketOf, type Interval } from "./bars";
import { recentSessions, sessionAt, sessionFrom } from "./sessions";

/**
 * A bars query as whole bars (pure): the bars of `interval` that start in `[from, to)`, each
 * answered whole, never half a bucket. `from` moves up to the first bar start at or after it
 * and `to` up to the first bar start at or after it, so equal answers have equal bounds (one
 * cache entry); `end` is where the last of those bars ends: the minutes to read, and when the
 * range has ended.
 */
export interface BarSpan {
  from: number;
  /** Absent: up to now (an open range). */
  to?: number;
  end?: number;
}

/** The first start of a bar of `interval` at or after `ts` (the next session's open when `ts` is between sessions). */
export function nextBarStart(symbol: string, interval: Interval, ts: number): number {
  const session = sessionAt(symbol, ts);
  if (session) {
    const { start, end } = bucketOf(interval, session, ts);
    if (start === ts) return ts;
    if (end < session.close) return end;
  }
  return sessionFrom(symbol, session ? session.close : ts)?.open ?? ts;
}

/** Where the last bar of `interval` starting before `to` ends (or `to`, when no session opened before it). */
export function lastBarEnd(symbol: string, interval: Interval, to: number): number {
  const [session] = recentSessions(symbol, to - 1, 1);
  if (!session) return to;
  return to - 1 >= session.close ? session.close : bucketOf(interval, session, to - 1).end;
}

export function barSpan(symbol: string, interval: Interval, from: number, to?: number): BarSpan {
  const start = nextBarStart(symbol, interval, from);
  if (to === undefined) return { from: start };
  return {
    from: start,
    to: Math.max(start, nextBarStart(symbol, interval, to)),
    end: lastBarEnd(symbol, interval, to),
  };
}
