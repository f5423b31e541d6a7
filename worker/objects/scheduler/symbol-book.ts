import type { Unavailable } from "../../feeds/unavailable";
import type { Quote } from "../../market/tick";

export interface SymbolBookOptions {
  /** How long a symbol the provider does not know is answered from memory. */
  unknownTtlMs: number;
  /** Most unknown symbols remembered (the oldest is forgotten first). */
  maxUnknown: number;
  /** How long a first quote taken to admit a symbol waits for its source to ask for it. */
  stashTtlMs: number;
  /** Most such quotes kept. */
  maxStash: number;
  /** Most symbols admitted on trust at once, and for how long each stays so unless settled. */
  maxTrusted: number;
  trustTtlMs: number;
}

/** Unknown symbols answered from memory for 10 minutes; an admitting quote kept 30 s for its source. */
export const BOOK_OPTIONS: SymbolBookOptions = {
  unknownTtlMs: 600_000,
  maxUnknown: 10_000,
  stashTtlMs: 30_000,
  maxStash: 1_000,
  maxTrusted: 200,
  trustTtlMs: 600_000,
};

/**
 * Which symbols a scheduler shard knows to be real, beyond what the config says (the
 * simulator's universe, SYMBOLS): those a publisher sent and those the provider quoted,
 * kept in storage by the shard (`known:{symbol}`) until their source forgets them. Also
 * the cheap refusals, in memory and bounded: symbols the provider said it does not know,
 * for a while. And a symbol's first quote, taken to admit it, until its source asks for
 * it (so admitting costs the request budget one request, not two). Pure.
 */
export class SymbolBook {
  private readonly known = new Set<string>();
  private readonly unknown = new Map<string, { until: number; reason: string }>();
  private readonly stashed = new Map<string, { quote: Quote; until: number }>();
  /** Symbols admitted on trust (a streamed deployment's budget had no room to look them up), until when. */
  private readonly trusted = new Map<string, number>();

  constructor(private readonly options: SymbolBookOptions = BOOK_OPTIONS) {}

  /** The known symbols from storage (once per instance). */
  load(symbols: Iterable<string>): void {
    for (const s of symbols) this.known.add(s);
  }

  isKnown(symbol: string): boolean {
    return this.known.has(symbol);
  }

  /** Marks `symbol` known; true when it was not (the caller stores it). */
  know(symbol: string): boolean {
    this.unknown.delete(symbol);
    if (this.known.has(symbol)) return false;
    this.known.add(symbol);
    return true;
  }

  /** Its source deleted its state: unknown again until the feed or a publisher says otherwise. */
  forget(symbol: string): boolean {
    this.stashed.delete(symbol);
    return this.known.delete(symbol);
  }

  /** The remembered refusal of a symbol the provider does not know, while it lasts. */
  refusal(symbol: string, now: number): Unavailable | undefined {
    const entry = this.unknown.get(symbol);
    if (!entry) return undefined;
    if (entry.until > now) return { unavailable: "unknown", reason: entry.reason };
    this.unknown.delete(symbol);
    return undefined;
  }

  rememberUnknown(symbol: string, reason: string, now: number): void {
    this.unknown.delete(symbol);
    if (this.unknown.size >= this.options.maxUnknown) this.unknown.delete(this.unknown.keys().next().value!);
    this.unknown.set(symbol, { until: now + this.options.unknownTtlMs, reason });
  }

  /** Admits `symbol` on trust for a while; false when the bound is reached (the oldest expired ones go first). */
  trust(symbol: string, now: number): boolean {
    for (const [s, until] of this.trusted) if (until <= now) this.trusted.delete(s);
    if (!this.trusted.has(symbol) && this.trusted.size >= this.options.maxTrusted) return false;
    this.trusted.set(symbol, now + this.options.trustTtlMs);
    return true;
  }

  /** Whether `symbol` was admitted on trust and not settled yet; `settle` ends it. */
  isTrusted(symbol: string, settle = false): boolean {
    const trusted = this.trusted.has(symbol);
    if (settle) this.trusted.delete(symbol);
    return trusted;
  }

  /** The symbols on trust now, oldest first. */
  trustedSymbols(): string[] {
    return [...this.trusted.keys()];
  }

  stash(quote: Quote, now: number): void {
    this.stashed.delete(quote.symbol);
    if (this.stashed.size >= this.options.maxStash) this.stashed.delete(this.stashed.keys().next().value!);
    this.stashed.set(quote.symbol, { quote, until: now + this.options.stashTtlMs });
  }

  /** The first quote taken when `symbol` was admitted, once, if still fresh. */
  takeStashed(symbol: string, now: number): Quote | undefined {
    const entry = this.stashed.get(symbol);
    this.stashed.delete(symbol);
    return entry && entry.until > now ? entry.quote : undefined;
  }
}
