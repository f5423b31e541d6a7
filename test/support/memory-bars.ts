import { type Bar, type BarStore, plainBar, type TimedBar } from "../../worker/market/bars";

/** A bar builder's store in memory (what a source keeps in SQLite), with every bar it holds. */
export function memoryBars(initial: readonly TimedBar[] = []): BarStore & { all(): Bar[] } {
  const bars = new Map(initial.map((b) => [b.t, { ...b }]));
  return {
    get: (t) => {
      const b = bars.get(t);
      return b && { ...b };
    },
    put: (b) => void bars.set(b.t, { ...b }),
    all: () => [...bars.values()].sort((a, b) => a.t - b.t).map(plainBar),
  };
}
