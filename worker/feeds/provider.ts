import type { Quote, Tick } from "../market/tick";

/** What a symbol's object asks a feed for: a symbol and, for models that evolve it, its last tick. */
export interface QuoteRequest {
  symbol: string;
  last?: Tick;
}

export type QuoteResult = { symbol: string; quote: Quote } | { symbol: string; error: string };

/**
 * A price source. The broker only calls `quotes`; adapters for real providers add
 * their transport, batching and budgets behind this interface.
 */
export interface FeedProvider {
  readonly id: string;
  readonly capabilities: {
    maxSymbolsPerRequest: number;
    needsKey: boolean;
    minIntervalMs: number;
  };
  quotes(requests: readonly QuoteRequest[], now: number): Promise<QuoteResult[]>;
}
