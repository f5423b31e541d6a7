import type { FeedProvider, QuoteRequest, QuoteResult } from "../../feeds/provider";
import type { Tick } from "../../market/tick";
import type { FaultLog } from "./fault-log";

export interface PullerParts {
  feed: FeedProvider;
  faults: FaultLog;
  /** A symbol's latest tick as its source keeps it (after a restart, for feeds that evolve prices). */
  latestKnown(symbol: string): Promise<Tick | undefined>;
  log(event: string, fields: Record<string, unknown>): void;
}

/**
 * A round's requests to the provider: each symbol with its last tick (the simulator
 * continues a path from it, also after a restart), and every result noted in the fault
 * log, one log line per fault that appears or clears, not one per round. The feed and the
 * sources are injected.
 */
export class Puller {
  /** Each symbol's latest tick, for feeds that evolve prices (the simulator). */
  readonly last = new Map<string, Tick>();

  constructor(private readonly parts: PullerParts) {}

  async pull(symbols: readonly string[], now: number): Promise<Map<string, QuoteResult>> {
    if (symbols.length === 0) return new Map();
    const requests: QuoteRequest[] = await Promise.all(
      symbols.map(async (symbol) => ({ symbol, last: this.last.get(symbol) ?? (await this.latestOf(symbol)) })),
    );
    const results = new Map((await this.parts.feed.quotes(requests, now)).map((r) => [r.symbol, r]));
    for (const result of results.values()) this.note(result, now);
    return results;
  }

  /** Symbols a provider's quote answered here (a poll, a catch-up): their day's figures are known. */
  private readonly quoted = new Set<string>();

  /**
   * The symbols a round polls: streamed ones no provider quote answered here yet (`unquoted`:
   * their first price may have been a trade, and only the provider's quote knows the day's
   * open, previous close and volume), and those the stream does not serve (all while it is down).
   */
  toPoll(symbols: readonly string[], streamed: ReadonlySet<string>): { unquoted: string[]; polled: string[] } {
    return {
      unquoted: symbols.filter((s) => streamed.has(s) && !this.quoted.has(s)),
      polled: symbols.filter((s) => !streamed.has(s)),
    };
  }

  /** A pulled symbol's result, into the fault log. */
  note(result: QuoteResult, now: number): void {
    const { feed, faults, log } = this.parts;
    const f = "fault" in result ? result.fault : undefined;
    if (!f) this.quoted.add(result.symbol);
    const change = faults.pulled(result.symbol, f, now);
    if (change === "cleared") log("feed_recovered", { provider: feed.id, symbol: result.symbol });
    if (change === "raised" && f)
      log("feed_fault", { provider: feed.id, symbol: result.symbol, kind: f.kind, reason: f.reason });
  }

  /** The symbol is pulled no more. */
  forget(symbol: string): void {
    this.last.delete(symbol);
    this.quoted.delete(symbol);
    this.parts.faults.forget(symbol);
  }

  private async latestOf(symbol: string): Promise<Tick | undefined> {
    if (!this.parts.feed.capabilities.continuesFromLast) return undefined;
    return this.parts.latestKnown(symbol).catch(() => undefined);
  }
}
