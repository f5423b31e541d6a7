import type { Tick } from "../../market/tick";
import type { HistoryGap } from "./history-gaps";

/** What a source keeps in its key-value storage besides its SQLite tables. */
export interface StoredSource {
  latest: Tick | undefined;
  /** When a publisher last sent a tick. */
  publishedAt: number;
  /** The stream's epoch: positions from another epoch do not apply. */
  epoch: string;
  /** What the bar history lacks. */
  barGaps: HistoryGap[];
}

/** Reads a source's stored state; a new stream (or one whose state was lost) gets a new epoch, stored at once. */
export async function restoreSource(storage: DurableObjectStorage, newest: Tick | undefined): Promise<StoredSource> {
  const stored = await storage.get<unknown>(["tick", "epoch", "publishedAt", "barGaps", "barsPartial"]);
  let epoch = stored.get("epoch") as string | undefined;
  if (!epoch) {
    epoch = crypto.randomUUID().slice(0, 8);
    await storage.put("epoch", epoch);
  }
  let barGaps = stored.get("barGaps") as HistoryGap[] | undefined;
  const partial = stored.get("barsPartial");
  if (!barGaps && typeof partial === "string") {
    // Older versions kept one reason for the whole history, never cleared: it counts for every
    // bar stored until now, until those days are no longer kept.
    barGaps = [{ from: 0, to: Date.now(), reason: partial }];
    await storage.put("barGaps", barGaps);
    await storage.delete("barsPartial");
  }
  return {
    // "tick" is where older versions kept the latest tick.
    latest: newest ?? (stored.get("tick") as Tick | undefined),
    publishedAt: (stored.get("publishedAt") as number | undefined) ?? 0,
    epoch,
    barGaps: barGaps ?? [],
  };
}
