import { aggregate, type Bar, BarBuilder, type BarChange, barEnd, type Interval } from "../../market/bars";
import { recentSessions, type Session, sessionAt } from "../../market/sessions";
import type { Tick } from "../../market/tick";

/** Most one-minute bars in one bar of each interval (a day session can be 25 h across a DST change). */
const MINUTES_PER_BAR: Readonly<Record<Interval, number>> = { "1m": 1, "5m": 5, "15m": 15, "1h": 60, "1d": 1_500 };

/** What a bar read answers: bars oldest first; the last one may be forming (not final). */
export interface BarRead {
  bars: Bar[];
  /** The start of the forming bar when the last of `bars` is it. */
  forming?: number;
  /** Why the history covers less than BAR_DAYS (its provider gave less), if it does. */
  partial?: string;
  /** The trading session of the newest bar kept ("the day": charts start it at its open). */
  session?: Session;
}

/**
 * A symbol's one-minute bars in its source's SQLite (one row per minute, the forming one
 * rewritten as ticks arrive), kept for the last `days` trading days of the symbol's market.
 * Coarser intervals are derived on read.
 */
export class SourceBars {
  private readonly builder: BarBuilder;
  /** The session day of the newest bar: a new one trims the oldest day. */
  /** The session of the newest stored bar: a bar inside it needs no session look-up and no trim. */
  private session: Session | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly symbol: string,
    private readonly days: number,
    latest: Tick | undefined,
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS bars (t INTEGER PRIMARY KEY, o REAL NOT NULL, h REAL NOT NULL, l REAL NOT NULL, c REAL NOT NULL, v REAL NOT NULL, n INTEGER NOT NULL)",
    );
    const newest = this.newest();
    this.session = newest ? sessionAt(symbol, newest.t) : undefined;
    this.builder = new BarBuilder(symbol, "1m", { forming: newest, lastVolume: latest?.volume });
  }

  isEmpty(): boolean {
    return this.newest() === undefined;
  }

  /** Folds a new tick in (arrived at `now`): the forming bar is stored after every tick. */
  fold(tick: Tick, now: number): BarChange {
    const change = this.builder.add(tick, now);
    if (change.kind === "updated") this.put([change.bar]);
    return change;
  }

  /** The forming bar once its minute has ended without another tick: final now (it is stored already). */
  closeDue(now: number): Bar[] {
    return this.builder.close(now);
  }

  /** The forming bar and when it ends, if one is forming. */
  forming(now: number): { bar: Bar; end: number } | undefined {
    const forming = this.builder.forming(now);
    return forming && { bar: { ...forming.bar }, end: forming.end };
  }

  /** Stores bars (backfill, or the forming bar) and trims to the kept days when a new day starts. */
  put(bars: readonly Bar[]): void {
    for (const b of bars) {
      this.sql.exec(
        "INSERT OR REPLACE INTO bars (t, o, h, l, c, v, n) VALUES (?, ?, ?, ?, ?, ?, ?)",
        b.t,
        b.o,
        b.h,
        b.l,
        b.c,
        b.v,
        b.n,
      );
    }
    const last = bars.at(-1);
    if (!last || (this.session && last.t >= this.session.open && last.t < this.session.close)) return;
    const session = sessionAt(this.symbol, last.t);
    if (session && session.day !== this.session?.day) {
      this.session = session;
      this.trim(last.t);
    }
  }

  /**
   * Bars of `interval` starting in `[from, to)`, the newest `limit` of them, that have ended
   * by `visibleAt` (a delayed viewer's clock) — or, for a live viewer (`visibleAt` = `now`),
   * also the forming one.
   */
  read(interval: Interval, from: number, to: number, limit: number, now: number, visibleAt: number): BarRead {
    // Only the newest minutes the answer can use, whatever the range holds: `limit` bars of
    // `interval` span at most `limit` times its minutes. A delayed viewer's bars end by
    // `visibleAt`, so no later minute is read; one more bar's worth covers the newest, which
    // may end after it, and one more the oldest, which the row limit may cut short (dropped).
    const live = visibleAt >= now;
    const rows = (limit + 2) * MINUTES_PER_BAR[interval];
    const before = live ? to : Math.min(to, visibleAt);
    const minutes = this.sql
      .exec<Bar>(
        "SELECT t, o, h, l, c, v, n FROM bars WHERE t >= ? AND t < ? ORDER BY t DESC LIMIT ?",
        from,
        before,
        rows,
      )
      .toArray()
      .reverse()
      .map((r) => ({ ...r }));
    let bars = aggregate(this.symbol, minutes, interval);
    if (minutes.length === rows) bars = bars.slice(1);
    bars = bars.filter((b) => b.t >= from);
    bars = bars.filter((b) => (live ? true : barEnd(this.symbol, interval, b.t) <= visibleAt));
    bars = bars.slice(-limit);
    const last = bars.at(-1);
    const forming = last && barEnd(this.symbol, interval, last.t) > now ? last.t : undefined;
    const newest = this.newest();
    const session = newest && sessionAt(this.symbol, newest.t);
    return { bars, ...(forming === undefined ? {} : { forming }), ...(session ? { session } : {}) };
  }

  newest(): Bar | undefined {
    const [row] = this.sql.exec<Bar>("SELECT t, o, h, l, c, v, n FROM bars ORDER BY t DESC LIMIT 1").toArray();
    return row ? { ...row } : undefined;
  }

  /** Drops bars before the oldest kept trading day. */
  private trim(now: number): void {
    const [oldest] = recentSessions(this.symbol, now, this.days);
    if (oldest) this.sql.exec("DELETE FROM bars WHERE t < ?", oldest.open);
  }
}
