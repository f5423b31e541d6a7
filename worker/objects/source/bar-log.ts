import { BAR_SNAPSHOT } from "../../broker/stream-frame";
import { type Bar, MINUTE_MS } from "../../market/bars";
import type { PacedUpdate } from "./bar-pacer";
import { addColumns } from "./sql";

/** Updates kept for resuming and gap filling (final bars are also kept while the delayed stream needs them). */
const LOG_SIZE = 2_000;
const TRIM_EVERY = 64;

/** One logged update of a symbol's bar stream. */
export interface LogRow {
  seq: number;
  /** The delayed stream's position (final bars and corrections only). */
  fseq: number | null;
  bar: string;
  final: number;
  correction: number;
  [k: string]: SqlStorageValue;
}

const ROW = "seq, fseq, final, correction, bar";

/**
 * Every bar update a symbol's bar stream sent, with its positions, in its source's SQLite
 * (`bar_log`): what hubs fill gaps from, clients resume from, and the delayed stream
 * releases, in order, once each bar ended `delayMs` ago.
 */
export class BarLog {
  seq: number;
  fseq: number;

  constructor(
    private readonly sql: SqlStorage,
    private readonly delayMs: number,
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS bar_log (seq INTEGER PRIMARY KEY, fseq INTEGER, final INTEGER NOT NULL, t INTEGER NOT NULL, bar TEXT NOT NULL, correction INTEGER NOT NULL DEFAULT 0)",
    );
    addColumns(sql, "bar_log", { correction: "INTEGER NOT NULL DEFAULT 0" });
    const [row] = sql
      .exec<{ seq: number | null; fseq: number | null }>("SELECT MAX(seq) AS seq, MAX(fseq) AS fseq FROM bar_log")
      .toArray();
    this.seq = row?.seq ?? 0;
    this.fseq = row?.fseq ?? 0;
  }

  /** Logs an update at the next positions; returns its row. */
  append(update: PacedUpdate, now: number): LogRow {
    const row: LogRow = {
      seq: ++this.seq,
      fseq: update.final ? ++this.fseq : null,
      bar: JSON.stringify(update.bar),
      final: update.final ? 1 : 0,
      correction: update.correction ? 1 : 0,
    };
    this.sql.exec(
      "INSERT INTO bar_log (seq, fseq, final, t, bar, correction) VALUES (?, ?, ?, ?, ?, ?)",
      row.seq,
      row.fseq,
      row.final,
      update.bar.t,
      row.bar,
      row.correction,
    );
    if (row.seq % TRIM_EVERY === 0) {
      this.sql.exec(
        "DELETE FROM bar_log WHERE seq <= ? AND (final = 0 OR t < ?)",
        row.seq - LOG_SIZE,
        now - this.delayMs - 2 * 3_600_000,
      );
    }
    return row;
  }

  /** The newest row (the forming bar, when it is not final). */
  newest(): LogRow | undefined {
    return this.sql.exec<LogRow>(`SELECT ${ROW} FROM bar_log ORDER BY seq DESC LIMIT 1`).toArray()[0];
  }

  /** The start of the newest bar sent final. */
  newestFinal(): number | undefined {
    const [row] = this.sql.exec<{ t: number | null }>("SELECT MAX(t) AS t FROM bar_log WHERE final = 1").toArray();
    return row?.t ?? undefined;
  }

  /** Rows with `after < seq < before`, oldest first, at most `limit`. */
  range(after: number, before: number, limit: number): LogRow[] {
    return this.sql
      .exec<LogRow>(`SELECT ${ROW} FROM bar_log WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?`, after, before, limit)
      .toArray();
  }

  /** Final rows with `after < fseq < before` that the delayed stream has released by `now`, oldest first. */
  delayedRange(after: number, before: number, limit: number, now: number): LogRow[] {
    return this.sql
      .exec<LogRow>(
        `SELECT ${ROW} FROM bar_log WHERE final = 1 AND fseq > ? AND fseq < ? AND fseq <= ? ORDER BY fseq LIMIT ?`,
        after,
        before,
        this.releasable(now),
        limit,
      )
      .toArray();
  }

  /** When the final row after delayed position `fseq` is due, if there is one. */
  dueAfter(fseq: number): number | undefined {
    const [next] = this.sql
      .exec<{ t: number }>("SELECT t FROM bar_log WHERE final = 1 AND fseq > ? ORDER BY fseq LIMIT 1", fseq)
      .toArray();
    return next && next.t + MINUTE_MS + this.delayMs;
  }

  /**
   * The delayed stream's position by `now`: the last final before the first whose bar has not
   * ended `delayMs` ago (a correction's bar ended long ago: it waits only for the finals before it).
   */
  releasable(now: number): number {
    const [blocked] = this.sql
      .exec<{ fseq: number | null }>(
        "SELECT MIN(fseq) AS fseq FROM bar_log WHERE final = 1 AND t > ?",
        now - this.delayMs - MINUTE_MS,
      )
      .toArray();
    if (blocked?.fseq != null) return blocked.fseq - 1;
    return this.fseq;
  }

  /** The newest revision of each of the last BAR_SNAPSHOT final bars at delayed positions up to `fseq`, in stream order. */
  newestRevisions(fseq: number): LogRow[] {
    return this.sql
      .exec<LogRow>(
        `SELECT ${ROW} FROM bar_log WHERE seq IN (SELECT MAX(seq) FROM bar_log WHERE final = 1 AND fseq <= ? GROUP BY t ORDER BY t DESC LIMIT ?) ORDER BY seq`,
        fseq,
        BAR_SNAPSHOT,
      )
      .toArray();
  }
}

/** A logged row's bar. */
export function barOf(row: LogRow): Bar {
  return JSON.parse(row.bar) as Bar;
}
