import {
  BAR_SNAPSHOT,
  type BarUpdate,
  buildBarFrame,
  buildDelayedBarFrame,
  type StreamFrame,
} from "../../broker/stream-frame";
import type { Bar, BarChange } from "../../market/bars";
import { BarLog, barOf, type LogRow } from "./bar-log";
import { BAR_UPDATE_MS, BarPacer, type PacedUpdate } from "./bar-pacer";

/** What the bar stream needs from the symbol's source. */
export interface BarStreamWiring {
  epoch(): string;
  /** Bars whose minute has ended without a tick since (final by the clock). */
  closeDue(now: number): Bar[];
  /** The forming bar and when it ends, if one is forming. */
  forming(now: number): { bar: Bar; end: number } | undefined;
  sendLive(frame: StreamFrame): void;
  sendDelayed(frame: StreamFrame): void;
}

/**
 * A symbol's bar streams, in its source: `bars` (every final bar, every correction of one,
 * and the forming bar at most once a second) and `delayed-bars` (each final bar and
 * correction once its bar ended PUBLIC_DELAY_MS ago, in order). Every update sent is logged
 * with its position (`seq`; final bars and corrections also `fseq`, the delayed stream's
 * position) so hubs fill gaps and clients resume exactly as for ticks. The forming bar is
 * sent only while a hub holds the live stream; final bars always.
 */
export class BarStream {
  private readonly pacer = new BarPacer(BAR_UPDATE_MS);
  private readonly log: BarLog;
  /** The forming bar as last sent, until a final bar of its minute or later goes out. */
  private forming: { frame: StreamFrame; t: number } | undefined;
  /** The update this instance sent last, at its position: the base of the next one's compact delta. */
  private sent: { update: PacedUpdate; seq: number } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** The delayed stream's last released position (undefined: stopped, nobody holds it). */
  private released: number | undefined;
  private delayedTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether hubs hold the live and the delayed stream. */
  private watched = { live: false, delayed: false };

  constructor(
    sql: SqlStorage,
    private readonly symbol: string,
    private readonly delayMs: number,
    private readonly wiring: BarStreamWiring,
  ) {
    this.log = new BarLog(sql, delayMs);
    const last = this.log.newest();
    if (last?.final === 0) this.forming = { frame: this.frameOf(last), t: barOf(last).t };
  }

  /** The start of the newest bar sent final: after a restart it is not forming any more. */
  newestFinal(): number | undefined {
    return this.log.newestFinal();
  }

  /**
   * A backfilled history's newest final bars enter an empty stream as its first updates,
   * so the first subscribers' snapshot already shows them.
   */
  seed(bars: readonly Bar[]): void {
    if (this.log.seq > 0) return;
    const now = Date.now();
    for (const bar of bars.slice(-BAR_SNAPSHOT)) this.log.append({ bar, final: true }, now);
  }

  /** Which of the streams hubs hold now. */
  watch(live: boolean, delayed: boolean): void {
    const started = live && !this.watched.live;
    this.watched = { live, delayed };
    if (started) {
      // A first live subscriber sees the bar forming now, not only from the next tick.
      const forming = this.wiring.forming(Date.now());
      if (forming) {
        this.pacer.push([], forming.bar);
        this.pump();
      }
    }
    if (!delayed) this.stopDelayed();
    else this.releaseDelayed();
  }

  /** Final bars that were due before a restart and never went out: they go out now, once. */
  resume(finals: readonly Bar[]): void {
    if (finals.length === 0) return;
    this.pacer.push(finals);
    this.pump();
  }

  /** A tick changed the bars. */
  changed(change: BarChange, now: number): void {
    switch (change.kind) {
      case "ignored":
        return;
      case "updated":
        this.pacer.push(change.finalized, this.watched.live ? change.bar : undefined);
        break;
      case "corrected":
        this.pacer.correct(change.bar);
        break;
      case "added":
        this.pacer.push([change.bar]);
        break;
    }
    this.pump(now);
  }

  /**
   * The live stream's snapshot: the newest revision of each of the last BAR_SNAPSHOT final
   * bars and, newer, the forming one; in stream order.
   */
  snapshot(): StreamFrame[] {
    const frames = this.log.newestRevisions(Number.MAX_SAFE_INTEGER).map((r) => this.frameOf(r));
    if (this.forming) frames.push(this.forming.frame);
    return frames.sort((a, b) => a.seq - b.seq);
  }

  /** The delayed stream's snapshot: as the live one's final bars, up to where the delayed stream has got to. */
  delayedSnapshot(now = Date.now()): StreamFrame[] {
    return this.log.newestRevisions(this.log.releasable(now)).map((r) => this.delayedFrameOf(r));
  }

  /** Live updates with `after < seq < before`, oldest first, at most `limit`. */
  range(after: number, before: number, limit: number): StreamFrame[] {
    return this.log.range(after, before, limit).map((r, i, rows) => this.frameOf(r, rows[i - 1]));
  }

  /** Delayed final bars and corrections with `after < fseq < before`, released by `now`, oldest first. */
  delayedRange(after: number, before: number, limit: number, now = Date.now()): StreamFrame[] {
    return this.log.delayedRange(after, before, limit, now).map((r) => this.delayedFrameOf(r));
  }

  // ---------------------------------------------------------------- internals

  /** Sends what the pacer says is due; one timer for the next update or the forming bar's end. */
  private pump(now = Date.now()): void {
    const finals = this.wiring.closeDue(now);
    if (finals.length > 0) this.pacer.push(finals);
    for (;;) {
      const { update, next } = this.pacer.take(now);
      if (update) this.send(update, now);
      if (!update || next === undefined || next > now) {
        const end = this.watched.live ? this.wiring.forming(now)?.end : undefined;
        this.arm(Math.min(next ?? Number.POSITIVE_INFINITY, end ?? Number.POSITIVE_INFINITY));
        return;
      }
    }
  }

  private arm(at: number): void {
    if (at === Number.POSITIVE_INFINITY || at >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private send(update: PacedUpdate, now: number): void {
    const { seq } = this.log.append(update, now);
    const before = this.sent?.seq === seq - 1 ? { symbol: this.symbol, ...this.sent.update } : undefined;
    this.sent = { update, seq };
    const frame = buildBarFrame({ symbol: this.symbol, ...update }, seq, this.wiring.epoch(), before);
    if (!update.final) this.forming = { frame, t: update.bar.t };
    else if (!update.correction && this.forming && update.bar.t >= this.forming.t) this.forming = undefined;
    this.wiring.sendLive(frame);
    if (!update.final) return;
    this.releaseDelayed(now);
    // Hubs hand the newest frame to new subscribers: after a correction, the forming bar is that again.
    const forming = update.correction && this.watched.live ? this.wiring.forming(now) : undefined;
    if (forming) this.pacer.push([], forming.bar);
  }

  /** Sends every final bar and correction that is now due, in order, and sets one timer for the next. */
  private releaseDelayed(now = Date.now()): void {
    if (!this.watched.delayed || this.delayMs === 0) return;
    // Starting: from where the stream has got to (the snapshot has it).
    this.released ??= this.log.releasable(now);
    for (const frame of this.delayedRange(this.released, Number.MAX_SAFE_INTEGER, 256, now)) {
      this.released = frame.seq;
      this.wiring.sendDelayed(frame);
    }
    const due = this.log.dueAfter(this.released);
    if (due !== undefined && this.delayedTimer === undefined) {
      this.delayedTimer = setTimeout(
        () => {
          this.delayedTimer = undefined;
          this.releaseDelayed();
        },
        Math.max(0, due - now),
      );
    }
  }

  private stopDelayed(): void {
    if (this.delayedTimer !== undefined) clearTimeout(this.delayedTimer);
    this.delayedTimer = undefined;
    this.released = undefined;
  }

  /** `previous`: the row before it in a range, the base of its compact delta when at `seq - 1`. */
  private frameOf(row: LogRow, previous?: LogRow): StreamFrame {
    const base = previous?.seq === row.seq - 1 ? this.updateOf(previous) : undefined;
    return buildBarFrame(this.updateOf(row), row.seq, this.wiring.epoch(), base);
  }

  private updateOf(row: LogRow): BarUpdate {
    return { symbol: this.symbol, bar: barOf(row), final: row.final === 1, correction: row.correction === 1 };
  }

  private delayedFrameOf(row: LogRow): StreamFrame {
    const correction = row.correction === 1;
    return buildDelayedBarFrame(this.symbol, barOf(row), row.fseq!, this.wiring.epoch(), this.delayMs, correction);
  }
}
