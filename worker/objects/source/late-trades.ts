/** How often at most a symbol reports the trades its bars refused as too late. */
export const LATE_REPORT_MS = 10 * 60_000;

/** What was refused since the last report. */
export interface LateReport {
  trades: number;
  size: number;
  /** How long after its minute ended (on the feed's clock) the latest of them arrived. */
  maxLateMs: number;
}

/**
 * Counts trades too late for any correction of their bar (pure): their volume is in no bar,
 * so it is said, not lost silently — the first at once, then at most once every
 * LATE_REPORT_MS, with everything refused meanwhile.
 */
export class LateTrades {
  private pending: LateReport | undefined;
  private reportedAt = Number.NEGATIVE_INFINITY;

  /** One refused trade at `now`; the report due now, if one is. */
  refused(size: number, lateMs: number, now: number): LateReport | undefined {
    this.pending ??= { trades: 0, size: 0, maxLateMs: 0 };
    const p = this.pending;
    p.trades += 1;
    p.size += size;
    p.maxLateMs = Math.max(p.maxLateMs, lateMs);
    if (now < this.reportedAt + LATE_REPORT_MS) return undefined;
    this.reportedAt = now;
    this.pending = undefined;
    return p;
  }
}
