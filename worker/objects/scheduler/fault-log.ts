import { FAULT_KINDS, type Fault, type FaultEntry, type FaultKind, type FaultReport } from "../../feeds/fault";

/** What a noted result changed, for the one log line per change. */
export type FaultChange = "raised" | "cleared" | undefined;

/**
 * A scheduler shard's faults, bounded whatever anonymous look-ups do: the newest
 * `perKind` of each kind (a flood of unknown symbols fills only its own rows, a provider's
 * auth failure still shows), a count per kind, and the current fault of each symbol the
 * shard pulls (bounded by its active set) so that a fault is logged once, not every round.
 * Look-ups (first quotes) are not remembered per symbol: one log line per change of kind.
 * Pure.
 */
export class FaultLog {
  private readonly recentByKind = new Map<FaultKind, FaultEntry[]>();
  private readonly counts = new Map<FaultKind, number>();
  /** The fault kind of each pulled symbol that has one. */
  private readonly current = new Map<string, FaultKind>();
  private lastLookUp: FaultKind | undefined;

  constructor(private readonly perKind = 5) {}

  /** A pulled (active) symbol's latest result. */
  pulled(symbol: string, f: Fault | undefined, now: number): FaultChange {
    const previous = this.current.get(symbol);
    if (f === undefined) {
      if (previous === undefined) return undefined;
      this.current.delete(symbol);
      this.dropRecent(symbol);
      return "cleared";
    }
    this.current.set(symbol, f.kind);
    const changed = previous !== f.kind;
    this.remember({ symbol, kind: f.kind, reason: f.reason, at: now }, changed);
    return changed ? "raised" : undefined;
  }

  /** A look-up's (a new symbol's first quote) fault: shown and counted, logged only when the kind changes. */
  lookedUp(symbol: string, f: Fault | undefined, now: number): FaultChange {
    if (f === undefined) return undefined;
    this.remember({ symbol, kind: f.kind, reason: f.reason, at: now }, true);
    const changed = this.lastLookUp !== f.kind;
    this.lastLookUp = f.kind;
    return changed ? "raised" : undefined;
  }

  /** The symbol is pulled no more. */
  forget(symbol: string): void {
    if (this.current.delete(symbol)) this.dropRecent(symbol);
  }

  /** The fault shown for `symbol`, if it is among the recent ones. */
  faultOf(symbol: string): FaultEntry | undefined {
    for (const entries of this.recentByKind.values()) {
      const found = entries.find((e) => e.symbol === symbol);
      if (found) return found;
    }
    return undefined;
  }

  report(): FaultReport {
    const recent = [...this.recentByKind.values()].flat().sort((a, b) => b.at - a.at);
    const counts: FaultReport["counts"] = {};
    for (const kind of FAULT_KINDS) {
      const n = this.counts.get(kind);
      if (n) counts[kind] = n;
    }
    return { recent, counts };
  }

  private remember(entry: FaultEntry, count: boolean): void {
    if (count) this.counts.set(entry.kind, (this.counts.get(entry.kind) ?? 0) + 1);
    this.dropRecent(entry.symbol);
    const entries = this.recentByKind.get(entry.kind) ?? [];
    entries.push(entry);
    if (entries.length > this.perKind) entries.shift();
    this.recentByKind.set(entry.kind, entries);
  }

  private dropRecent(symbol: string): void {
    for (const [kind, entries] of this.recentByKind) {
      const i = entries.findIndex((e) => e.symbol === symbol);
      if (i < 0) continue;
      entries.splice(i, 1);
      if (entries.length === 0) this.recentByKind.delete(kind);
    }
  }
}

/** Several shards' reports as one, still bounded: the newest `perKind` of each kind, counts added. */
export function mergeFaultReports(reports: readonly FaultReport[], perKind = 5): FaultReport {
  const recent: FaultEntry[] = [];
  const taken = new Map<FaultKind, number>();
  for (const e of reports.flatMap((r) => r.recent).sort((a, b) => b.at - a.at)) {
    const n = taken.get(e.kind) ?? 0;
    if (n >= perKind) continue;
    taken.set(e.kind, n + 1);
    recent.push(e);
  }
  const counts: FaultReport["counts"] = {};
  for (const r of reports)
    for (const kind of FAULT_KINDS) {
      const n = r.counts[kind];
      if (n) counts[kind] = (counts[kind] ?? 0) + n;
    }
  return { recent, counts };
}
