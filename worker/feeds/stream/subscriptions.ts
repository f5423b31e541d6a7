/** What to send the provider now to make its subscriptions follow the wanted set. */
export interface SubscriptionPlan {
  subscribe: string[];
  unsubscribe: string[];
  /** Wanted symbols the connection has no room for (its limit): they are polled instead. */
  overLimit: string[];
}

/** A subscribed symbol: asked for (and polled) until the provider confirms it or its data arrives. */
interface Subscribed {
  served: boolean;
  /** Whether a trade of it arrived on this connection. */
  traded: boolean;
  /** When it was asked for, confirmed, or last traded (a served symbol silent too long is polled again). */
  heardAt: number;
}

/** A symbol stays subscribed upstream this long after its last viewer left (a reload costs nothing). */
export const LINGER_MS = 1_000;

/**
 * A served symbol without a trade this long while its market is open is polled too, until it
 * trades: a minute once it traded, two seconds after a confirmation with no trade (providers
 * acknowledge symbols they never stream; a quiet one costs a poll or two until it trades).
 */
export const SYMBOL_SILENCE: Silence = { tradedMs: 60_000, untradedMs: 2_000 };

/** How long a served symbol may stay silent while its market is open before it is polled too. */
export interface Silence {
  /** Confirmed but never traded on this connection (a provider acknowledging a symbol it will never stream). */
  untradedMs: number;
  /** Traded before. */
  tradedMs: number;
}

/**
 * The upstream subscription set following the active symbols: a symbol is subscribed as soon
 * as it is wanted (its first viewer), and unsubscribed only `lingerMs` after it stopped being
 * wanted, so a viewer reloading the page does not cost an unsubscribe and a subscribe. Never
 * more than `limit` symbols. A symbol counts as served only once the provider confirmed it or
 * it traded; refused ones are not asked for again while wanted; a served one silent too long
 * while its market is open (briefly if it never traded since it was confirmed: providers
 * acknowledge symbols they never stream) is polled too, until it trades. After a reconnect
 * everything wanted is subscribed again. Pure.
 */
export class SubscriptionSet {
  private wanted = new Set<string>();
  private readonly subscribed = new Map<string, Subscribed>();
  /** Subscribed symbols no longer wanted, since when. */
  private readonly leaving = new Map<string, number>();
  /** Symbols the provider refused: not asked for again until they stop being wanted. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly limit: number,
    private readonly lingerMs: number,
    private readonly silence: Silence,
  ) {}

  want(symbols: Iterable<string>, now: number): void {
    this.wanted = new Set(symbols);
    for (const s of this.subscribed.keys()) {
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
      this.subscribed.set(s, { served: false, traded: false, heardAt: now });
      subscribe.push(s);
    }
    return { subscribe, unsubscribe, overLimit };
  }

  /** The provider confirmed these: served from now on (until they prove silent). */
  confirm(symbols: Iterable<string>, now: number): void {
    for (const s of symbols) {
      const sub = this.subscribed.get(s);
      if (sub && !sub.served) {
        sub.served = true;
        sub.heardAt = now;
      }
    }
  }

  /** A trade of `symbol` arrived: it is served (its data confirms it). */
  traded(symbol: string, now: number): void {
    const sub = this.subscribed.get(symbol);
    if (!sub) return;
    sub.served = true;
    sub.traded = true;
    sub.heardAt = now;
  }

  /** The provider refused these: they leave the set and are polled. */
  refuse(symbols: Iterable<string>): string[] {
    const out: string[] = [];
    for (const s of symbols) {
      if (!this.subscribed.delete(s)) continue;
      this.leaving.delete(s);
      out.push(s);
      if (this.wanted.has(s)) this.refused.add(s);
    }
    return out;
  }

  /** Unconfirmed symbols whose message the provider refused as a whole: asked for again by the next plan. */
  requeue(symbols: Iterable<string>): string[] {
    const out: string[] = [];
    for (const s of symbols) {
      const sub = this.subscribed.get(s);
      if (!sub || sub.served) continue;
      this.subscribed.delete(s);
      out.push(s);
    }
    return out;
  }

  /** Subscribed symbols not confirmed yet, oldest first (a refusal that names none applies to them). */
  unconfirmed(): string[] {
    return [...this.subscribed].filter(([, sub]) => !sub.served).map(([s]) => s);
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

  /** Whether `symbol` is subscribed (or asked for) on the connection. */
  isSubscribed(symbol: string): boolean {
    return this.subscribed.has(symbol);
  }

  wantedCount(): number {
    return this.wanted.size;
  }

  /** Symbols the provider carries for us now (wanted or lingering, confirmed or not). */
  current(): IterableIterator<string> {
    return this.subscribed.keys();
  }

  /** Wanted symbols the stream serves at `now` (confirmed, and not silent while `open` says their market trades). */
  served(now: number, open: (symbol: string) => boolean): string[] {
    const out: string[] = [];
    for (const [s, sub] of this.subscribed) {
      if (!sub.served || !this.wanted.has(s)) continue;
      const silentAfter = sub.traded ? this.silence.tradedMs : this.silence.untradedMs;
      if (now - sub.heardAt >= silentAfter && open(s)) continue;
      out.push(s);
    }
    return out;
  }

  get size(): number {
    return this.subscribed.size;
  }
}

/**
 * The wanted symbols of every scheduler shard: one upstream connection serves them all, and
 * each shard tells its own set (the whole set, each time). Pure.
 */
export class ShardWants {
  private readonly sets = new Map<number, ReadonlySet<string>>();

  set(shard: number, symbols: Iterable<string>): void {
    this.sets.set(shard, new Set(symbols));
  }

  /** Whether `shard` told its set since this instance started (an evicted stream forgot them all). */
  told(shard: number): boolean {
    return this.sets.has(shard);
  }

  union(): Set<string> {
    const out = new Set<string>();
    for (const set of this.sets.values()) for (const s of set) out.add(s);
    return out;
  }
}
