import {
  aggregate,
  type Bar,
  BarBuilder,
  type BarChange,
  type BarStore,
  type BarTick,
  barEnd,
  CORRECTION_MS,
  type Interval,
  MINUTE_MS,
  type TimedBar,
} from "../../market/bars";
import { withDayVolume } from "../../market/day-volume";
import { recentSessions, type Session, sessionAt } from "../../market/sessions";
import type { Tick } from "../../market/tick";
import { addColumns } from "./sql";

/** Most one-minute bars in one bar of each interval (a day session can be 25 h across a DST change). */
const MINUTES_PER_BAR: Readonly<Record<Interval, number>> = { "1m": 1, "5m": 5, "15m": 15, "1h": 60, "1d": 1_500 };

/** What a bar read answers: bars oldest first; the last one may be forming (not final). */
export interface BarRead {
  bars: Bar[];
  /** The start of the forming bar when the last of `bars` is it. */
  forming?: number;
  /** Why the history of the range is short (its provider gave less, or has not answered yet), if it is. */
  partial?: string;
  /** The trading session of the newest bar the reader may see ("the day": charts start it at its open). */
  session?: Session;
  /** Nothing in the answer can change any more: every bar in it is past its correction window, and its history is complete. */
  final?: true;
}

/** A tick's trade as the bars take it, and its feed's delay (a provider-delayed feed's trades are that much older). */
export type FoldedTick = BarTick & Pick<Tick, "delayed" | "delayMs">;

const COLUMNS = "t, o, h, l, c, v, n";

/**
 * A symbol's one-minute bars in its source's SQLite (one row per minute, the forming one
 * rewritten as ticks arrive, a final one when a late trade corrects it), kept for the last
 * `days` trading days of the symbol's market. Coarser intervals are derived on read. Bars
 * run on the feed's clock: this server's, less the delay of a provider-delayed feed.
 */
export class SourceBars {
  private readonly builder: BarBuilder;
  /** Bars that ended before a restart but never went out final (the stream's queue was lost with the instance). */
  readonly unsent: Bar[];
  /** The session of the newest stored bar: a bar inside it needs no session look-up and no trim. */
  private session: Session | undefined;
  /** How far the feed's clock is behind this server's: the delay of the newest tick's feed. */
  private lag: number;

  constructor(
    private readonly sql: SqlStorage,
    private readonly symbol: string,
    private readonly days: number,
    /** The newest tick: its feed's delay, and its day volume for the current day bar. */
    private readonly latest: () => Tick | undefined,
    /** The start of the newest bar already sent final: it is not forming any more, whatever the clock says. */
    sentFinal: number | undefined,
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS bars (t INTEGER PRIMARY KEY, o REAL NOT NULL, h REAL NOT NULL, l REAL NOT NULL, c REAL NOT NULL, v REAL NOT NULL, n INTEGER NOT NULL, ot INTEGER, ct INTEGER)",
    );
    // Bars stored before trade times were kept: their close follows arrivals, as it did.
    addColumns(sql, "bars", { ot: "INTEGER", ct: "INTEGER" });
    this.lag = lagOf(latest());
    const newest = this.newest();
    this.session = newest ? sessionAt(symbol, newest.t) : undefined;
    const forming = newest && (sentFinal === undefined || newest.t > sentFinal) ? this.get(newest.t) : undefined;
    this.unsent =
      newest && sentFinal !== undefined
        ? this.sql
            .exec<Bar>(`SELECT ${COLUMNS} FROM bars WHERE t > ? AND t < ? ORDER BY t`, sentFinal, newest.t)
            .toArray()
            .map((r) => ({ ...r }))
        : [];
    const store: BarStore = { get: (t) => this.get(t), put: (bar) => this.putTimed(bar) };
    this.builder = new BarBuilder(symbol, "1m", store, { forming });
  }

  isEmpty(): boolean {
    return this.newest() === undefined;
  }

  /** Folds a trade in (arrived at `now`): the forming bar is stored after every tick, a corrected one when corrected. */
  fold(tick: FoldedTick, now: number, moveClock = true): BarChange {
    if (moveClock) this.lag = lagOf(tick);
    return this.builder.add(tick, now - lagOf(tick));
  }

  /** The forming bar once its minute has ended without another tick: final now (it is stored already). */
  closeDue(now: number): Bar[] {
    return this.builder.close(now - this.lag);
  }

  /** The forming bar and when it ends on this server's clock, if one is forming. */
  forming(now: number): { bar: Bar; end: number } | undefined {
    const forming = this.builder.forming(now - this.lag);
    if (!forming) return undefined;
    const { t, o, h, l, c, v, n } = forming.bar;
    return { bar: { t, o, h, l, c, v, n }, end: forming.end + this.lag };
  }

  /** Stores a history (backfill): its closes stand unless a later trade in the same minute comes. */
  put(bars: readonly Bar[]): void {
    for (const b of bars) this.putTimed({ ...b, ot: b.t, ct: b.t + MINUTE_MS - 1 });
  }

  /**
   * Bars of `interval` starting in `[from, end)` (whole bars: `from` and `end` are bar
   * edges), the newest `limit` of them, that have ended by `visibleAt` (a delayed viewer's
   * clock) — or, for a live viewer (`visibleAt` = `now`), also the forming one.
   */
  read(interval: Interval, from: number, end: number, limit: number, now: number, visibleAt: number): BarRead {
    const clock = now - this.lag;
    // A delayed viewer sees final bars only: ended by its clock and by the feed's.
    const shownUntil = visibleAt >= now ? Number.POSITIVE_INFINITY : Math.min(visibleAt, clock);
    // Only the newest minutes the answer can use, whatever the range holds: `limit` bars of
    // `interval` span at most `limit` times its minutes. A delayed viewer's bars end by
    // `shownUntil`, so no later minute is read; one more bar's worth covers the newest, which
    // may end after it, and one more the oldest, which the row limit may cut short (dropped).
    const rows = (limit + 2) * MINUTES_PER_BAR[interval];
    const minutes = this.sql
      .exec<Bar>(
        `SELECT ${COLUMNS} FROM bars WHERE t >= ? AND t < ? ORDER BY t DESC LIMIT ?`,
        from,
        Math.min(end, shownUntil),
        rows,
      )
      .toArray()
      .reverse()
      .map((r) => ({ ...r }));
    let bars = aggregate(this.symbol, minutes, interval);
    if (minutes.length === rows) bars = bars.slice(1);
    bars = bars.filter((b) => b.t >= from);
    if (interval === "1d") bars = withDayVolume(this.symbol, bars, this.latest());
    if (shownUntil !== Number.POSITIVE_INFINITY)
      bars = bars.filter((b) => barEnd(this.symbol, interval, b.t) <= shownUntil);
    bars = bars.slice(-limit);
    const last = bars.at(-1);
    const forming = last && barEnd(this.symbol, interval, last.t) > clock ? last.t : undefined;
    const newest = this.newest(shownUntil);
    const session = newest && sessionAt(this.symbol, newest.t);
    return {
      bars,
      ...(forming === undefined ? {} : { forming }),
      ...(session ? { session } : {}),
      ...(end + CORRECTION_MS + this.lag <= now ? { final: true as const } : {}),
    };
  }

  /** The newest bar (ended by `until`, when given). */
  newest(until = Number.POSITIVE_INFINITY): Bar | undefined {
    const [row] =
      until === Number.POSITIVE_INFINITY
        ? this.sql.exec<Bar>(`SELECT ${COLUMNS} FROM bars ORDER BY t DESC LIMIT 1`).toArray()
        : this.sql
            .exec<Bar>(`SELECT ${COLUMNS} FROM bars WHERE t <= ? ORDER BY t DESC LIMIT 1`, until - MINUTE_MS)
            .toArray();
    return row ? { ...row } : undefined;
  }

  /** Where the kept trading days start now. */
  keptFrom(now: number): number {
    return recentSessions(this.symbol, now, this.days)[0]?.open ?? now;
  }

  private get(t: number): TimedBar | undefined {
    const [row] = this.sql.exec<TimedBar>(`SELECT ${COLUMNS}, ot, ct FROM bars WHERE t = ?`, t).toArray() as Array<
      Omit<TimedBar, "ot" | "ct"> & { ot: number | null; ct: number | null }
    >;
    return row ? { ...row, ot: row.ot ?? row.t, ct: row.ct ?? row.t } : undefined;
  }

  /** Stores a bar, and trims to the kept days when a newer day starts. */
  private putTimed(b: TimedBar): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO bars (t, o, h, l, c, v, n, ot, ct) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      b.t,
      b.o,
      b.h,
      b.l,
      b.c,
      b.v,
      b.n,
      b.ot,
      b.ct,
    );
    if (this.session && b.t >= this.session.open && b.t < this.session.close) return;
    const session = sessionAt(this.symbol, b.t);
    // Only a newer day trims: a correction or a history of an older one does not.
    if (session && (!this.session || session.open > this.session.open)) {
      this.session = session;
      this.trim(b.t);
    }
  }

  /** Drops bars before the oldest kept trading day. */
  private trim(now: number): void {
    const [oldest] = recentSessions(this.symbol, now, this.days);
    if (oldest) this.sql.exec("DELETE FROM bars WHERE t < ?", oldest.open);
  }
}

/** How late a tick's feed is: a provider-delayed feed's trades are stamped that long before they arrive. */
function lagOf(tick: Pick<Tick, "delayed" | "delayMs"> | undefined): number {
  return tick?.delayed ? (tick.delayMs ?? 0) : 0;
}
