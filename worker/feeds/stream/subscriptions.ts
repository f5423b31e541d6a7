/** What to send the provider now to make its subscriptions follow the wanted set. */
export interface SubscriptionPlan {
  subscribe: string[];
  unsubscribe: string[];
  /** Wanted symbols the connection has no room for (its limit): they are polled instead. */
  overLimit: string[];
}

/**
 * The upstream subscription set following the active symbols: a symbol is subscribed as soon
 * as it is wanted (its first viewer), and unsubscribed only `lingerMs` after it stopped being
 * wanted, so a viewer reloading the page does not cost an unsubscribe and a subscribe. Never
 * more than `limit` symbols. After a reconnect everything wanted is subscribed again. Pure.
 */
export class SubscriptionSet {
  private wanted = new Set<string>();
  private readonly subscribed = new Set<string>();
  /** Subscribed symbols no longer wanted, since when. */
  private readonly leaving = new Map<string, number>();
  /** Symbols the provider refused: not asked for again until they stop being wanted. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly limit: number,
    private readonly lingerMs: number,
  ) {}

  want(symbols: Iterable<string>, now: number): void {
    this.wanted = new Set(symbols);
    for (const s of this.subscribed) {
      if (this.wanted.has(s)) this.leaving.delete(s);
      else if (!this.leaving.has(s)) this.leaving.set(s, now);
    }
    for (const s of this.refused) if (!this.wanted.has(s)) this.refused.delete(s);
  }

  plan(now: number): SubscriptionPlan {
    const unsubscribe: string[] = [];
    for (const [s, since] of this.leaving) {
      if (now - since >= this.lingerMs) {
        unsubscribe.push(s);
        this.leaving.delete(s);
        this.subscribed.delete(s);
      }
    }
    const subscribe: string[] = [];
    const overLimit: string[] = [];
    for (const s of this.wanted) {
      if (this.subscribed.has(s) || this.refused.has(s)) continue;
      // A lingering symbol still holds its place until it is unsubscribed.
      if (this.subscribed.size >= this.limit) {
        overLimit.push(s);
        continue;
      }
      this.subscribed.add(s);
      subscribe.push(s);
    }
    return { subscribe, unsubscribe, overLimit };
  }

  /** The provider refused these: they leave the set and are polled. */
  refuse(symbols: readonly string[]): void {
    for (const s of symbols) {
      this.subscribed.delete(s);
      this.leaving.delete(s);
      if (this.wanted.has(s)) this.refused.add(s);
    }
  }

  /** A new connection starts with nothing subscribed; lingering symbols are simply dropped. */
  reset(): void {
    this.subscribed.clear();
    this.leaving.clear();
  }

  /** When the next lingering symbol falls due for unsubscribing (nothing changes). */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const since of this.leaving.values()) next = Math.min(next ?? Infinity, since + this.lingerMs);
    return next;
  }

  wantedCount(): number {
    return this.wanted.size;
  }

  /** Symbols the provider carries for us now (wanted or lingering). */
  get current(): ReadonlySet<string> {
    return this.subscribed;
  }

  /** Wanted symbols the stream serves (subscribed and not leaving). */
  streamed(): string[] {
    return [...this.subscribed].filter((s) => this.wanted.has(s));
  }

  get size(): number {
    return this.subscribed.size;
  }
}
