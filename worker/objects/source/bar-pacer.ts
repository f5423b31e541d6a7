import type { Bar } from "../../market/bars";

/** At most one bar update per this many ms per symbol (the forming bar is conflated to its newest state). */
export const BAR_UPDATE_MS = 1_000;

/** One update to send: a final bar (or a final bar's correction), or the forming bar as it stands. */
export interface PacedUpdate {
  bar: Bar;
  final: boolean;
  /** A new revision of a bar already sent final. */
  correction?: true;
}

/**
 * Paces a symbol's bar updates (pure; the caller owns time): at most one every `gapMs`.
 * Every final bar is sent, in order, and every correction after it; the forming bar is
 * conflated to its newest state and dropped once a final bar of the same minute or later
 * supersedes it. A correction of a bar whose final has not gone out yet only changes it.
 */
export class BarPacer {
  private readonly finals: Array<{ bar: Bar; correction?: true }> = [];
  private forming: Bar | undefined;
  private lastSent = Number.NEGATIVE_INFINITY;

  constructor(private readonly gapMs: number) {}

  /** Bars that became final, and the forming bar now (none: unchanged, or nobody watches it). */
  push(finalized: readonly Bar[], forming?: Bar): void {
    this.finals.push(...finalized.map((b) => ({ bar: { ...b } })));
    if (forming) this.forming = { ...forming };
    else if (this.forming && finalized.some((f) => f.t >= this.forming!.t)) this.forming = undefined;
  }

  /** A final bar's new revision (a late trade changed it). */
  correct(bar: Bar): void {
    const queued = this.finals.find((f) => f.bar.t === bar.t);
    if (queued) queued.bar = { ...bar };
    else this.finals.push({ bar: { ...bar }, correction: true });
  }

  /** The update due at `now`, if one is, and when to ask again (nothing pending: never). */
  take(now: number): { update?: PacedUpdate; next?: number } {
    const pending = this.finals.length > 0 || this.forming !== undefined;
    if (!pending) return {};
    if (now < this.lastSent + this.gapMs) return { next: this.lastSent + this.gapMs };
    let update: PacedUpdate;
    const final = this.finals.shift();
    if (final) {
      update = { bar: final.bar, final: true, ...(final.correction ? { correction: true as const } : {}) };
      if (this.forming && this.forming.t <= final.bar.t) this.forming = undefined;
    } else {
      update = { bar: this.forming!, final: false };
      this.forming = undefined;
    }
    this.lastSent = now;
    const more = this.finals.length > 0 || this.forming !== undefined;
    return more ? { update, next: now + this.gapMs } : { update };
  }
}
