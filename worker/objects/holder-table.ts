import { buildFanoutTree, treeShape, type FanoutNode } from "../broker/fanout-tree";
import { log } from "../log";

interface Holder {
  count: number;
  /** Bumped on every change, so a late "no interest" answer cannot undo a newer attach. */
  generation: number;
}

/**
 * The hubs holding subscribers of one of a source's streams, with their subscription
 * counts (persisted in a SQLite table of the source, so an evicted source still knows
 * where to deliver), and the fan-out tree over them.
 */
export class HolderTable {
  private readonly holders = new Map<string, Holder>();
  private generation = 0;
  tree: FanoutNode[] = [];

  constructor(
    private readonly sql: SqlStorage,
    private readonly table: string,
    /** Names the tree's relays (shared by the symbol's streams: relays are stateless). */
    private readonly symbol: string,
    /** For logs: which of the symbol's streams. */
    private readonly stream: string,
    private readonly degree: number,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (name TEXT PRIMARY KEY, count INTEGER NOT NULL)`);
    for (const row of sql.exec<{ name: string; count: number }>(`SELECT name, count FROM ${table}`)) {
      this.holders.set(row.name, { count: row.count, generation: 0 });
    }
    this.rebuildTree();
  }

  get size(): number {
    return this.holders.size;
  }

  /** The hubs. */
  names(): string[] {
    return [...this.holders.keys()];
  }

  /** Subscriptions across every hub. */
  total(): number {
    let total = 0;
    for (const h of this.holders.values()) total += h.count;
    return total;
  }

  /** The change counter now: a delivery remembers it when it leaves. */
  get version(): number {
    return this.generation;
  }

  /** Whether `hub` is unchanged since `version` (so its "no interest" answer still holds). */
  unchangedSince(hub: string, version: number): boolean {
    return (this.holders.get(hub)?.generation ?? 0) <= version;
  }

  /** Sets `hub`'s count (0 removes it); true when the total changed. */
  set(hub: string, count: number): boolean {
    const known = this.holders.get(hub);
    if (count <= 0) {
      if (!known) return false;
      this.holders.delete(hub);
      this.sql.exec(`DELETE FROM ${this.table} WHERE name = ?`, hub);
      this.rebuildTree();
      return true;
    }
    this.holders.set(hub, { count, generation: ++this.generation });
    if (!known) this.rebuildTree();
    if (known?.count === count) return false;
    this.sql.exec(`INSERT OR REPLACE INTO ${this.table} (name, count) VALUES (?, ?)`, hub, count);
    return true;
  }

  private rebuildTree(): void {
    const before = treeShape(this.tree);
    this.tree = buildFanoutTree(this.symbol, [...this.holders.keys()], this.degree);
    const after = treeShape(this.tree);
    if (after.depth !== before.depth || after.relays !== before.relays || after.hubs !== before.hubs) {
      log("fanout_tree", { symbol: this.symbol, ...(this.stream === "ticker" ? {} : { stream: this.stream }), ...after });
    }
  }
}
