import type { FaultReport } from "../../feeds/fault";
import { mergeFaultReports } from "./fault-log";

export interface FeedStatus {
  provider: string;
  requestsPerMinute: number | null;
  roundIntervalMs: number;
  activeSymbols: number;
  /** The last round: symbols served, upstream requests, whether the budget held it back, and its delivery tree's size. */
  lastRound?: { at: number; served: number; requests: number; limited: boolean; hubs: number; relays: number };
  /** The newest faults of each kind and how many of each kind (bounded whatever look-ups do). */
  faults: FaultReport;
  /** poll, or stream (the provider's WebSocket; symbols it does not serve just now are polled). */
  transport: "stream" | "poll";
  /** Symbols the stream served in the last round (not polled). */
  streamed: number;
}

/** One view of all scheduler shards: budgets and counts add up, faults are pooled (still bounded). */
export function mergeStatus(shards: readonly FeedStatus[]): FeedStatus | undefined {
  const [first] = shards;
  if (!first) return undefined;
  const rounds = shards.flatMap((s) => (s.lastRound ? [s.lastRound] : []));
  return {
    provider: first.provider,
    requestsPerMinute:
      first.requestsPerMinute === null ? null : shards.reduce((n, s) => n + (s.requestsPerMinute ?? 0), 0),
    roundIntervalMs: first.roundIntervalMs,
    activeSymbols: shards.reduce((n, s) => n + s.activeSymbols, 0),
    lastRound:
      rounds.length === 0
        ? undefined
        : {
            at: Math.max(...rounds.map((r) => r.at)),
            served: rounds.reduce((n, r) => n + r.served, 0),
            requests: rounds.reduce((n, r) => n + r.requests, 0),
            limited: rounds.some((r) => r.limited),
            hubs: rounds.reduce((n, r) => n + r.hubs, 0),
            relays: rounds.reduce((n, r) => n + r.relays, 0),
          },
    faults: mergeFaultReports(shards.map((s) => s.faults)),
    transport: first.transport,
    streamed: shards.reduce((n, s) => n + s.streamed, 0),
  };
}
