import { buildFanoutTree, type FanoutNode, treeShape } from "./tree";

/** Where a holder set is kept across evictions (a SQLite table of the source; a Map in unit tests). */
export interface HolderStore {
  load(): Iterable<readonly [string, number]>;
  save(hub: string, count: number): void;
  remove(hub: string): void;
}

/**
 * The hubs holding subscribers of one stream, with their subscription counts, and the
 * fan-out tree over them (rebuilt only when a hub comes or goes). Counts arrive from the
 * hubs themselves (attach, and their debounced interest reports, 0 included): a hub that
 * holds a stream no more says so in its own message. Pure: the store does the I/O.
 */
export class Holders {
  private readonly counts = new Map<string, number>();
  tree: FanoutNode[] = [];

  constructor(
    private readonly store: HolderStore,
    /** Names the tree's relays (a symbol: its streams share relays, which are stateless). */
    private readonly treeName: string,
    private readonly degree: number,
    /** Told when the tree's shape changes, for one log line per change. */
    private readonly onReshape: (shape: ReturnType<typeof treeShape>) => void = () => {},
  ) {
    for (const [hub, count] of store.load()) this.counts.set(hub, count);
    this.rebuild();
  }

  get size(): number {
    return this.counts.size;
  }

  names(): string[] {
    return [...this.counts.keys()];
  }

  /** Subscriptions across every hub. */
  total(): number {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  /** Sets `hub`'s count (0 removes it); true when the total changed. */
  set(hub: string, count: number): boolean {
    const known = this.counts.get(hub);
    if (count <= 0) {
      if (known === undefined) return false;
      this.counts.delete(hub);
      this.store.remove(hub);
      this.rebuild();
      return true;
    }
    if (known === count) return false;
    this.counts.set(hub, count);
    this.store.save(hub, count);
    if (known === undefined) this.rebuild();
    return true;
  }

  private rebuild(): void {
    const before = treeShape(this.tree);
    this.tree = buildFanoutTree(this.treeName, [...this.counts.keys()], this.degree);
    const after = treeShape(this.tree);
    if (after.depth !== before.depth || after.relays !== before.relays || after.hubs !== before.hubs)
      this.onReshape(after);
  }
}

/** Holder counts in a SQLite table (`name`, `count`) of the object that owns them. */
export function sqlHolderStore(sql: SqlStorage, table: string): HolderStore {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (name TEXT PRIMARY KEY, count INTEGER NOT NULL)`);
  return {
    load: () =>
      sql
        .exec<{ name: string; count: number }>(`SELECT name, count FROM ${table}`)
        .toArray()
        .map((r) => [r.name, r.count] as const),
    save: (hub, count) => void sql.exec(`INSERT OR REPLACE INTO ${table} (name, count) VALUES (?, ?)`, hub, count),
    remove: (hub) => void sql.exec(`DELETE FROM ${table} WHERE name = ?`, hub),
  };
}
