import type { Bar } from "../market/bars";
import type { AssetClass } from "../market/hours";
import type { Quote, Tick } from "../market/tick";
import type { Fault } from "./fault";

/** What a symbol's object asks a feed for: a symbol and, for models that evolve it, its last tick. */
export interface QuoteRequest {
  symbol: string;
  last?: Tick;
}

export type QuoteResult = { symbol: string; quote: Quote } | { symbol: string; fault: Fault };

export interface FeedCapabilities {
  maxSymbolsPerRequest: number;
  needsKey: boolean;
  assetClasses: readonly AssetClass[];
  /** Shortest sensible polling period per symbol (ms). */
  minIntervalMs: number;
  /** Default request budget per minute (the free tier's limit). */
  requestsPerMinute: number;
  /** The feed evolves each symbol from its last tick (the simulator), so it needs `last`. */
  continuesFromLast?: boolean;
}

/**
 * A price source. The broker only calls `quotes`; adapters for real providers add
 * their transport, batching and fault handling behind this interface. A failed symbol
 * comes back as `{ fault }` (its kind and a one-line reason); `quotes` itself does not throw.
 */
export interface FeedProvider {
  readonly id: string;
  readonly capabilities: FeedCapabilities;
  quotes(requests: readonly QuoteRequest[], now: number): Promise<QuoteResult[]>;
  /**
   * One-minute bars of `symbol` starting in `[from, to)`, in one request (providers with a
   * REST aggregates endpoint); `missing` says which parts of the range they lack, and why.
   */
  minuteBars?(symbol: string, from: number, to: number): Promise<BarHistory | { fault: Fault }>;
}

/** A part of a history asked for that the answer lacks. */
export interface MissingBars {
  from: number;
  to: number;
  reason: string;
  /** From when asking again may fill it (absent: it will not be there). */
  retryAt?: number;
}

/** A provider's intraday history: bars oldest first, and the parts of the range asked that it lacks, if any. */
export interface BarHistory {
  bars: Bar[];
  missing?: MissingBars[];
}
