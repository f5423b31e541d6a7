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
  /** Tokens kept for a priority plan until `reservedUntil` (`reserve`): ordinary plans leave them. */
  private reserved = 0;
  private reservedUntil = 0;

  constructor(
    private readonly requestsPerMinute: number,
    private readonly batchSize: number,
    now: number,
    /** Tokens at start; by default one round's worth, not a full minute's burst. */
    initialTokens = Math.min(requestsPerMinute, Math.max(1, requestsPerMinute / 60)),
  ) {
    this.tokens = initialTokens;
    this.updatedAt = now;
  }

  /** Takes `requests` tokens if the budget has them now (a cold symbol's first quote). */
  take(requests: number, now: number): boolean {
    if (!Number.isFinite(this.requestsPerMinute)) return true;
    this.refill(now);
    if (this.tokens < requests) return false;
    this.tokens -= requests;
    return true;
  }

  /** How long until `requests` tokens are there (0 if they are now). */
  waitFor(requests: number, now: number): number {
    if (!Number.isFinite(this.requestsPerMinute)) return 0;
    this.refill(now);
    return Math.max(0, Math.ceil(((requests - this.tokens) * 60_000) / this.requestsPerMinute));
  }

  /** Requests the budget has now (Infinity without a limit): the metrics' "budget left". */
  left(now: number): number {
    if (!Number.isFinite(this.requestsPerMinute)) return Number.POSITIVE_INFINITY;
    this.refill(now);
    return this.tokens;
  }

  /**
   * Keeps one request's token for a priority plan (a catch-up the budget could not cover yet)
   * for `forMs`: ordinary plans leave it, so it gathers for the priority plan instead of being
   * spent as it comes. One at a time: the rounds keep the rest of their pace.
   */
  reserve(now: number, forMs: number): void {
    this.reserved = 1;
    this.reservedUntil = now + forMs;
  }

  /** `priority`: may spend the reserved tokens (it is what they are kept for), and serves `active` in order. */
  plan(active: readonly string[], now: number, priority = false): RoundPlan {
    if (active.length === 0) return { symbols: [], requests: 0, limited: false };
    const needed = Math.max(1, Math.ceil(active.length / this.batchSize));
    if (!Number.isFinite(this.requestsPerMinute)) return { symbols: [...active], requests: needed, limited: false };
    this.refill(now);
    const kept = priority || now >= this.reservedUntil ? 0 : this.reserved;
    const requests = Math.max(0, Math.min(needed, Math.floor(this.tokens - kept)));
    this.tokens -= requests;
    if (priority) this.reserved = Math.max(0, this.reserved - requests);
    if (requests === needed) return { symbols: [...active], requests, limited: false };
    const count = requests * this.batchSize;
    // A priority plan serves in the caller's order; rounds take turns from where the last stopped.
    const start = priority ? 0 : this.cursor % active.length;
    const symbols = Array.from({ length: count }, (_, i) => active[(start + i) % active.length]!);
    if (!priority) this.cursor = (start + count) % active.length;
    return { symbols, requests, limited: true };
  }

  private refill(now: number): void {
    this.tokens = Math.min(
      this.requestsPerMinute,
      this.tokens + ((now - this.updatedAt) * this.requestsPerMinute) / 60_000,
    );
    this.updatedAt = now;
  }
}
