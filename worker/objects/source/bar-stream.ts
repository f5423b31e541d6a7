import { BAR_SNAPSHOT, buildBarFrame, buildDelayedBarFrame, type StreamFrame } from "../../broker/stream-frame";
import { type Bar, type BarChange, MINUTE_MS } from "../../market/bars";

/** At most one bar update per this many ms per symbol (the forming bar is conflated to its newest state). */
export const BAR_UPDATE_MS = 1_000;
/** Updates kept for resuming and gap filling (final bars are also kept while the delayed stream needs them). */
const LOG_SIZE = 2_000;
const TRIM_EVERY = 64;

/** One update to send: a final bar, or the forming bar as it stands. */
export interface PacedUpdate {
  bar: Bar;
  final: boolean;
}

/**
 * Paces a symbol's bar updates (pure; the caller owns time): at most one every `gapMs`.
 * Every final bar is sent, in order; the forming bar is conflated to its newest state
 * and dropped once a final bar of the same minute or later supersedes it.
 */
export class BarPacer {
  private readonly finals: Bar[] = [];
  private forming: Bar | undefined;
  private lastSent = Number.NEGATIVE_INFINITY;

  constructor(private readonly gapMs: number) {}

  /** Bars that became final, and the forming bar now (none: unchanged, or nobody watches it). */
  push(finalized: readonly Bar[], forming?: Bar): void {
    this.finals.push(...finalized.map((b) => ({ ...b })));
    if (forming) this.forming = { ...forming };
    else if (this.forming && finalized.some((f) => f.t >= this.forming!.t)) this.forming = undefined;
  }

  /** The update due at `now`, if one is, and when to ask again (nothing pending: never). */
  take(now: number): { update?: PacedUpdate; next?: number } {
    const pending = this.finals.length > 0 || this.forming !== undefined;
    if (!pending) return {};
    if (now < this.lastSent + this.gapMs) return { next: this.lastSent + this.gapMs };
    let update: PacedUpdate;
    const final = this.finals.shift();
    if (final) {
      update = { bar: final, final: true };
      if (this.forming && this.forming.t <= final.t) this.forming = undefined;
    } else {
      update = { bar: this.forming!, final: false };
      this.forming = undefined;
    }
    this.lastSent = now;
    const more = this.finals.length > 0 || this.forming !== undefined;
    return more ? { update, next: now + this.gapMs } : { update };
  }
}

interface LogRow {
  seq: number;
  fseq: number | null;
  bar: string;
  final: number;
  [k: string]: SqlStorageValue;
}

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
 * A symbol's bar streams, in its source: `bars` (every final bar and the forming bar at
 * most once a second) and `delayed-bars` (each final bar once it ended PUBLIC_DELAY_MS
 * ago). Every update sent is logged with its position (`seq`; final bars also `fseq`, the
 * delayed stream's position) so hubs fill gaps and clients resume exactly as for ticks.
 * The forming bar is sent only while a hub holds the live stream; final bars always.
 */
export class BarStream {
  private readonly pacer = new BarPacer(BAR_UPDATE_MS);
  private seq: number;
  private fseq: number;
  private latest: StreamFrame | undefined;
  /** The update at `seq` sent last by this instance (the base of the next frame's compact delta). */
  private sent: PacedUpdate | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** The delayed stream's last released position (undefined: stopped, nobody holds it). */
  private released: number | undefined;
  private delayedTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether hubs hold the live and the delayed stream. */
  private watched = { live: false, delayed: false };

  constructor(
    private readonly sql: SqlStorage,
    private readonly symbol: string,
    private readonly delayMs: number,
    private readonly wiring: BarStreamWiring,
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS bar_log (seq INTEGER PRIMARY KEY, fseq INTEGER, final INTEGER NOT NULL, t INTEGER NOT NULL, bar TEXT NOT NULL)",
    );
    const [row] = sql
      .exec<{ seq: number | null; fseq: number | null }>("SELECT MAX(seq) AS seq, MAX(fseq) AS fseq FROM bar_log")
      .toArray();
    this.seq = row?.seq ?? 0;
    this.fseq = row?.fseq ?? 0;
    const [last] = sql.exec<LogRow>("SELECT seq, fseq, final, bar FROM bar_log ORDER BY seq DESC LIMIT 1").toArray();
    if (last) this.latest = this.frameOf(last);
  }

  /**
   * A backfilled history's newest final bars enter an empty stream as its first updates,
   * so the first subscribers' snapshot already shows them.
   */
  seed(bars: readonly Bar[]): void {
    if (this.seq > 0) return;
    for (const bar of bars.slice(-BAR_SNAPSHOT)) {
      const seq = ++this.seq;
      const fseq = ++this.fseq;
      this.sql.exec(
        "INSERT INTO bar_log (seq, fseq, final, t, bar) VALUES (?, ?, 1, ?, ?)",
        seq,
        fseq,
        bar.t,
        JSON.stringify(bar),
      );
      this.latest = buildBarFrame({ symbol: this.symbol, bar, final: true }, seq, this.wiring.epoch());
    }
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

  /** A tick changed the bars. */
  changed(change: BarChange, now: number): void {
    if (change.kind !== "updated") return;
    this.pacer.push(change.finalized, this.watched.live ? change.bar : undefined);
    this.pump(now);
  }

  /** The live stream's snapshot: the last BAR_SNAPSHOT final bars and, newer, the forming one; oldest first. */
  snapshot(): StreamFrame[] {
    const finals = this.sql
      .exec<LogRow>("SELECT seq, fseq, final, bar FROM bar_log WHERE final = 1 ORDER BY seq DESC LIMIT ?", BAR_SNAPSHOT)
      .toArray()
      .reverse()
      .map((r) => this.frameOf(r));
    const latest = this.latest;
    if (latest && (finals.length === 0 || latest.seq > finals.at(-1)!.seq)) finals.push(latest);
    return finals;
  }

  /** The delayed stream's snapshot: the last BAR_SNAPSHOT final bars that ended `delayMs` ago. */
  delayedSnapshot(now = Date.now()): StreamFrame[] {
    return this.sql
      .exec<LogRow>(
        "SELECT seq, fseq, final, bar FROM bar_log WHERE final = 1 AND t <= ? ORDER BY seq DESC LIMIT ?",
        now - this.delayMs - MINUTE_MS,
        BAR_SNAPSHOT,
      )
      .toArray()
      .reverse()
      .map((r) => this.delayedFrameOf(r));
  }

  /** Live updates with `after < seq < before`, oldest first, at most `limit`. */
  range(after: number, before: number, limit: number): StreamFrame[] {
    return this.sql
      .exec<LogRow>(
        "SELECT seq, fseq, final, bar FROM bar_log WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?",
        after,
        before,
        limit,
      )
      .toArray()
      .map((r, i, rows) => this.frameOf(r, rows[i - 1]));
  }

  /** Delayed final bars with `after < fseq < before` that ended `delayMs` ago, oldest first. */
  delayedRange(after: number, before: number, limit: number, now = Date.now()): StreamFrame[] {
    return this.sql
      .exec<LogRow>(
        "SELECT seq, fseq, final, bar FROM bar_log WHERE final = 1 AND fseq > ? AND fseq < ? AND t <= ? ORDER BY fseq LIMIT ?",
        after,
        before,
        now - this.delayMs - MINUTE_MS,
        limit,
      )
      .toArray()
      .map((r) => this.delayedFrameOf(r));
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
    const seq = ++this.seq;
    const fseq = update.final ? ++this.fseq : null;
    const bar = JSON.stringify(update.bar);
    this.sql.exec(
      "INSERT INTO bar_log (seq, fseq, final, t, bar) VALUES (?, ?, ?, ?, ?)",
      seq,
      fseq,
      update.final ? 1 : 0,
      update.bar.t,
      bar,
    );
    if (seq % TRIM_EVERY === 0) {
      this.sql.exec(
        "DELETE FROM bar_log WHERE seq <= ? AND (final = 0 OR t < ?)",
        seq - LOG_SIZE,
        now - this.delayMs - 2 * 3_600_000,
      );
    }
    const previous = this.sent && { symbol: this.symbol, ...this.sent };
    this.sent = update;
    this.latest = buildBarFrame({ symbol: this.symbol, ...update }, seq, this.wiring.epoch(), previous);
    this.wiring.sendLive(this.latest);
    if (update.final) this.releaseDelayed(now);
  }

  /** Sends every final bar that has now ended `delayMs` ago, and sets one timer for the next. */
  private releaseDelayed(now = Date.now()): void {
    if (!this.watched.delayed || this.delayMs === 0) return;
    if (this.released === undefined) {
      // Starting: from the newest bar already old enough (the snapshot has it).
      const [row] = this.sql
        .exec<{ fseq: number | null }>(
          "SELECT MAX(fseq) AS fseq FROM bar_log WHERE final = 1 AND t <= ?",
          now - this.delayMs - MINUTE_MS,
        )
        .toArray();
      this.released = row?.fseq ?? 0;
    }
    for (const frame of this.delayedRange(this.released, Number.MAX_SAFE_INTEGER, 256, now)) {
      this.released = frame.seq;
      this.wiring.sendDelayed(frame);
    }
    const [next] = this.sql
      .exec<{ t: number }>("SELECT t FROM bar_log WHERE final = 1 AND fseq > ? ORDER BY fseq LIMIT 1", this.released)
      .toArray();
    if (next && this.delayedTimer === undefined) {
      this.delayedTimer = setTimeout(
        () => {
          this.delayedTimer = undefined;
          this.releaseDelayed();
        },
        Math.max(0, next.t + MINUTE_MS + this.delayMs - now),
      );
    }
  }

  private stopDelayed(): void {
    if (this.delayedTimer !== undefined) clearTimeout(this.delayedTimer);
    this.delayedTimer = undefined;
    this.released = undefined;
  }

  private frameOf(row: LogRow, previous?: LogRow): StreamFrame {
    return buildBarFrame(
      this.updateOf(row),
      row.seq,
      this.wiring.epoch(),
      previous?.seq === row.seq - 1 ? this.updateOf(previous) : undefined,
    );
  }

  private updateOf(row: LogRow) {
    return { symbol: this.symbol, bar: JSON.parse(row.bar) as Bar, final: row.final === 1 };
  }

  private delayedFrameOf(row: LogRow): StreamFrame {
    return buildDelayedBarFrame(this.symbol, JSON.parse(row.bar) as Bar, row.fseq!, this.wiring.epoch(), this.delayMs);
  }
}
