import { DatabaseSync, type SQLInputValue } from "node:sqlite";

/**
 * A Durable Object's `ctx.storage.sql` over Node's own SQLite (in memory), for unit tests of
 * the parts that keep their state in it: the same SQL, run by the same engine. Only what
 * the parts use: `exec(query, ...bindings)` with `toArray()`, `one()` and `columnNames`.
 */
export function memorySql(): SqlStorage {
  const db = new DatabaseSync(":memory:");
  return {
    exec(query: string, ...bindings: unknown[]) {
      const stmt = db.prepare(query);
      const rows = stmt.all(...(bindings as SQLInputValue[])).map((r) => ({ ...r }));
      return {
        toArray: () => rows,
        one: () => {
          if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
          return rows[0];
        },
        columnNames: rows[0] ? Object.keys(rows[0]) : [],
        [Symbol.iterator]: () => rows[Symbol.iterator](),
      };
    },
  } as unknown as SqlStorage;
}
