import type { Tick } from "../../market/tick";

/** A stored tick and when it reached this server (the delayed stream counts from then). */
export interface StoredTick {
  tick: Tick;
  arrived: number;
}

/** When a row arrived (rows stored before arrival times were kept: the tick's own time). */
const ARRIVED = "COALESCE(arrived, json_extract(tick, '$.ts'))";

/**
 * A symbol's tick history in its source's SQLite: one row per tick, which is also where the
 * latest tick is kept (one insert per tick; a separate key cost another write each). Trimmed
 * to `size` ticks, but never past a tick the delayed stream has still to release.
 */
export class TickHistory {
  constructor(
    private readonly sql: SqlStorage,
    private readonly size: number,
    /** PUBLIC_DELAY_MS: ticks younger than this (and a minute more) are kept whatever the size. */
    private readonly delayMs: number,
  ) {
    sql.exec("CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY, tick TEXT NOT NULL, arrived INTEGER)");
    // Stores made before arrival times were kept gain the column.
    if (
      !sql
        .exec<{ name: string }>("PRAGMA table_info(history)")
        .toArray()
        .some((c) => c.name === "arrived")
    ) {
      sql.exec("ALTER TABLE history ADD COLUMN arrived INTEGER");
    }
  }

  /** The newest tick stored. */
  newest(): Tick | undefined {
    const [row] = this.sql.exec<{ tick: string }>("SELECT tick FROM history ORDER BY seq DESC LIMIT 1").toArray();
    return row ? (JSON.parse(row.tick) as Tick) : undefined;
  }

  /** Stores `tick`, which arrived at `arrived`; trims every TRIM_EVERY ticks (the ring may briefly hold that many more). */
  append(tick: Tick, arrived: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO history (seq, tick, arrived) VALUES (?, ?, ?)",
      tick.seq,
      JSON.stringify(tick),
      arrived,
    );
    if (tick.seq % TRIM_EVERY === 0) this.trim(tick.seq, arrived);
  }

  /** Up to `limit` ticks with `after < seq < before`, oldest first. */
  between(after: number, before: number, limit: number): StoredTick[] {
    return this.sql
      .exec<{ tick: string; arrived: number }>(
        `SELECT tick, ${ARRIVED} AS arrived FROM history WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?`,
        after,
        before,
        limit,
      )
      .toArray()
      .map((r) => ({ tick: JSON.parse(r.tick) as Tick, arrived: r.arrived }));
  }

  /** The newest `limit` ticks, newest first. */
  latest(limit: number): Tick[] {
    return this.sql
      .exec<{ tick: string }>("SELECT tick FROM history ORDER BY seq DESC LIMIT ?", limit)
      .toArray()
      .map((r) => JSON.parse(r.tick) as Tick);
  }

  /** The newest `limit` ticks that arrived at or before `at`, newest first. */
  arrivedBy(at: number, limit: number): Tick[] {
    return this.sql
      .exec<{ tick: string }>(`SELECT tick FROM history WHERE ${ARRIVED} <= ? ORDER BY seq DESC LIMIT ?`, at, limit)
      .toArray()
      .map((r) => JSON.parse(r.tick) as Tick);
  }

  private trim(seq: number, now: number): void {
    if (this.delayMs === 0) {
      this.sql.exec("DELETE FROM history WHERE seq <= ?", seq - this.size);
    } else {
      // A minute's margin, so the newest released tick (the delayed stream's snapshot) always stays.
      this.sql.exec(
        `DELETE FROM history WHERE seq <= ? AND ${ARRIVED} < ?`,
        seq - this.size,
        now - this.delayMs - 60_000,
      );
    }
  }
}

/** The history is trimmed every this many ticks, not on every one. */
const TRIM_EVERY = 32;
