/**
 * Which price source a symbol trusts just now, and when its price counts as stale.
 * Published ticks are authoritative: the feed stays quiet for the symbol for
 * PUBLISH_HOLD_MS after one. A price counts as stale after STALE_AFTER_MS without a new
 * one, or two update intervals of a feed the request budget makes poll slowly; each tick
 * carries that figure, so the page, the widget and the server judge staleness alike. Pure.
 */
export class Freshness {
  /** When the feed last delivered a good quote (memory only: a woken source counts from its wake). */
  private freshAt: number;
  /** The expected time between feed updates, as the scheduler last said. */
  private updateIntervalMs: number;

  constructor(
    private readonly options: { staleAfterMs: number; publishHoldMs: number; tickIntervalMs: number },
    /** When a publisher last sent a tick (kept in storage by the source). */
    public publishedAt: number,
    now: number,
  ) {
    this.freshAt = now;
    this.updateIntervalMs = options.tickIntervalMs;
  }

  /** The scheduler's expected interval between updates (0: unchanged). */
  expectUpdatesEvery(ms: number): void {
    if (ms > 0) this.updateIntervalMs = ms;
  }

  /** Whether a feed quote may be taken now (no publisher holds the symbol); if so, it counts as fresh. */
  takeFeedQuote(now: number): boolean {
    if (now - this.publishedAt < this.options.publishHoldMs) return false;
    this.freshAt = now;
    return true;
  }

  /** Whether a price neither fed nor published for too long is stale at `now`. */
  isStale(now: number): boolean {
    return now - Math.max(this.freshAt, this.publishedAt) > this.staleAfterMs();
  }

  staleAfterMs(): number {
    return Math.round(Math.max(this.options.staleAfterMs, 2 * this.updateIntervalMs));
  }
}
