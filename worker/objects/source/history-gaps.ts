/** A stretch of a symbol's bar history known to be missing, and why. */
export interface HistoryGap {
  from: number;
  to: number;
  reason: string;
  /** From when asking the provider again may fill it (absent: it will not be there). */
  retryAt?: number;
}

/**
 * What a symbol's stored bar history lacks (pure): stretches its provider did not give, or
 * has not given yet (a backfill in flight). A read overlapping one is partial, and never
 * cached as final; a stretch refilled later, or older than the kept days, stops counting,
 * so a history that was short clears itself once the data is there.
 */
export class HistoryGaps {
  private gaps: HistoryGap[];

  constructor(gaps: readonly HistoryGap[] = []) {
    this.gaps = gaps.filter((g) => g.to > g.from).map((g) => ({ ...g }));
  }

  /** Every gap, oldest first (what is stored). */
  list(): HistoryGap[] {
    return this.gaps.map((g) => ({ ...g }));
  }

  /** `[gap.from, gap.to)` is missing (replacing what was said of that stretch before). */
  add(gap: HistoryGap): void {
    this.fill(gap.from, gap.to);
    if (gap.to > gap.from) this.gaps.push({ ...gap });
    this.gaps.sort((a, b) => a.from - b.from);
  }

  /** `[from, to)` is known now: no gap covers it any more. */
  fill(from: number, to: number): void {
    const out: HistoryGap[] = [];
    for (const g of this.gaps) {
      if (g.to <= from || g.from >= to) {
        out.push(g);
        continue;
      }
      if (g.from < from) out.push({ ...g, to: from });
      if (g.to > to) out.push({ ...g, from: to });
    }
    this.gaps = out;
  }

  /** Forgets what lies before `keptFrom` (bars older than the kept days are not kept anyway); whether that changed anything. */
  trim(keptFrom: number): boolean {
    const before = JSON.stringify(this.gaps);
    this.fill(Number.NEGATIVE_INFINITY, keptFrom);
    return JSON.stringify(this.gaps) !== before;
  }

  /** Why `[from, to)` is short: the reasons of the gaps it overlaps, or nothing. */
  reasons(from: number, to: number): string | undefined {
    const reasons = new Set(this.gaps.filter((g) => g.from < to && g.to > from).map((g) => g.reason));
    return reasons.size > 0 ? [...reasons].join("; ") : undefined;
  }

  /** The oldest gap worth asking the provider for again at `now`, if any. */
  due(now: number): HistoryGap | undefined {
    const gap = this.gaps.find((g) => g.retryAt !== undefined && g.retryAt <= now);
    return gap && { ...gap };
  }
}
