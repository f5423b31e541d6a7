/**
 * Which symbols a pull round may fetch without exceeding the provider's request budget.
 * A token bucket refills at `requestsPerMinute`; when a round cannot cover every active
 * symbol, it serves as many as the tokens allow, continuing round-robin from where the
 * last round stopped, so every symbol is updated equally often. Pure: the caller owns time.
 */
export interface RoundPlan {
  symbols: string[];
  requests: number;
  /** True when some active symbols had to wait for a later round. */
  limited: boolean;
}

export class RequestBudget {
  private tokens: number;
  private updatedAt: number;
  private cursor = 0;

  constructor(
    private readonly requestsPerMinute: number,
    private readonly batchSize: number,
    now: number,
  ) {
    // Start with one round's worth, not a full minute's burst.
    this.tokens = Math.min(requestsPerMinute, Math.max(1, requestsPerMinute / 60));
    this.updatedAt = now;
  }

  plan(active: readonly string[], now: number): RoundPlan {
    if (active.length === 0) return { symbols: [], requests: 0, limited: false };
    const needed = Math.max(1, Math.ceil(active.length / this.batchSize));
    if (!Number.isFinite(this.requestsPerMinute)) return { symbols: [...active], requests: needed, limited: false };
    this.tokens = Math.min(this.requestsPerMinute, this.tokens + ((now - this.updatedAt) * this.requestsPerMinute) / 60_000);
    this.updatedAt = now;
    const requests = Math.min(needed, Math.floor(this.tokens));
    this.tokens -= requests;
    if (requests === needed) return { symbols: [...active], requests, limited: false };
    const count = requests * this.batchSize;
    const start = this.cursor % active.length;
    const symbols = Array.from({ length: count }, (_, i) => active[(start + i) % active.length]!);
    this.cursor = (start + count) % active.length;
    return { symbols, requests, limited: true };
  }
}
