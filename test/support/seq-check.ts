/** A gap as the client reports it. */
export interface ReportedGap {
  symbol: string;
  missed: number | undefined;
}

/**
 * Where a symbol's seqs, in arrival order, do not go up by one without a reported gap of
 * exactly the jump's size; and the gaps reported without such a jump. Both empty: every
 * position was seen once, in order, and every loss was reported with its count.
 */
export function unexplained(seqs: number[], gaps: ReportedGap[]): { jumps: string[]; extraGaps: ReportedGap[] } {
  const pending = [...gaps];
  const jumps: string[] = [];
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] === seqs[i - 1]! + 1) continue;
    const gap = pending.shift();
    if (!gap || gap.missed !== seqs[i]! - seqs[i - 1]! - 1) jumps.push(`${seqs[i - 1]}→${seqs[i]}`);
  }
  return { jumps, extraGaps: pending };
}
