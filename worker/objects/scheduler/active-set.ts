/** Why an activation was refused: the shard is full, or the holder already has its share. */
export type Activation = "ok" | "full" | "share";

export interface ActiveCaps {
  /** Symbols this shard serves at once (its part of MAX_ACTIVE_SYMBOLS). */
  total: number;
  /** Symbols one holder (a client address, or a connection when the address is unknown) may bring in (its part of MAX_ACTIVE_SYMBOLS_PER_ADDRESS). */
  perHolder: number;
}

/** How an active symbol is stored: when it became active and who brought it in. */
export interface ActiveEntry {
  at: number;
  by?: string;
}

/**
 * A shard's active symbols, each charged to whoever brought it in (the first subscriber's
 * address): a symbol others already watch costs nobody anything, and one client cannot
 * take every slot: past its share, its new symbols are refused while anyone else's still
 * fit. A holder's charge ends when the symbol stops being active. Pure: the shard stores
 * the entries.
 */
export class ActiveSet {
  private readonly entries = new Map<string, ActiveEntry>();
  private readonly held = new Map<string, number>();

  constructor(private readonly caps: ActiveCaps) {}

  /** Stored entries (an older version stored only the time). */
  load(stored: Iterable<[string, ActiveEntry | number]>): void {
    for (const [symbol, value] of stored) this.add(symbol, typeof value === "number" ? { at: value } : value);
  }

  has(symbol: string): boolean {
    return this.entries.has(symbol);
  }

  get size(): number {
    return this.entries.size;
  }

  symbols(): string[] {
    return [...this.entries.keys()];
  }

  /** Symbols `by` brought in that are active now. */
  heldBy(by: string): number {
    return this.held.get(by) ?? 0;
  }

  /** Activates `symbol` for `by` (none: a publisher or the system, not charged); the entry to store when it is new. */
  activate(symbol: string, by: string | undefined, now: number): { outcome: Activation; entry?: ActiveEntry } {
    if (this.entries.has(symbol)) return { outcome: "ok" };
    if (this.entries.size >= this.caps.total) return { outcome: "full" };
    if (by !== undefined && this.heldBy(by) >= this.caps.perHolder) return { outcome: "share" };
    const entry: ActiveEntry = by === undefined ? { at: now } : { at: now, by };
    this.add(symbol, entry);
    return { outcome: "ok", entry };
  }

  /** True when it was active. */
  deactivate(symbol: string): boolean {
    const entry = this.entries.get(symbol);
    if (!entry) return false;
    this.entries.delete(symbol);
    if (entry.by !== undefined) {
      const n = (this.held.get(entry.by) ?? 1) - 1;
      if (n > 0) this.held.set(entry.by, n);
      else this.held.delete(entry.by);
    }
    return true;
  }

  private add(symbol: string, entry: ActiveEntry): void {
    this.entries.set(symbol, entry);
    if (entry.by !== undefined) this.held.set(entry.by, this.heldBy(entry.by) + 1);
  }
}
