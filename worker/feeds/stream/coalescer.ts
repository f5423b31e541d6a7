import type { Quote } from "../../market/tick";
import { type ConditionRule, REGULAR } from "../../market/trade-conditions";
import { entryOf } from "../../multimap";

/** What one symbol did within a window: becomes one tick. */
export interface WindowQuote {
  symbol: string;
  /** The last price: the newest last-eligible trade's (or, with none in the window, the newest known). */
  price: number;
  /** That price's exchange time. */
  ts?: number;
  /** Sizes of the window's trades that count toward volume (absent when none said its size). */
  size?: number;
  /** The window's highest and lowest trade that may move them. */
  high?: number;
  low?: number;
  bid?: number;
  ask?: number;
  trades: number;
  /** The first tick after an outage of the stream: prices in between were not seen. */
  gap?: true;
  /**
   * The provider's day volume as of the window's last trade: a catch-up quote's figure (trades
   * nobody streamed during the outage are in it) plus the streamed trades it predates.
   */
  dayVolume?: number;
}

/** Streamed trades remembered per symbol while its catch-up is owed: enough for minutes of a busy symbol. */
const MAX_OWED_TRADES = 10_000;

/** A symbol's window while it fills (no price yet when only quotes came). */
type Window = Omit<WindowQuote, "symbol" | "price"> & { price?: number };

/**
 * Trades and quotes of each symbol within one STREAM_BATCH_MS window become one tick: the
 * last price, summed size, the window's high and low; quotes update bid/ask. Each trade
 * counts as its conditions allow (the tape's rule table): an odd lot adds to the size but
 * sets no price, an out-of-sequence print moves the high/low but not the price. A trade older than the newest one taken (out of order, or replayed after a
 * reconnect) never moves the price backwards. After an outage a symbol is held: its window
 * fills but does not go out until its catch-up quote is in, so its one gap-marked tick
 * carries the caught-up price. Pure.
 */
export class Coalescer {
  private windows = new Map<string, Window>();
  /** Per symbol: the newest last-eligible trade taken (exchange time) and its price, across windows. */
  private readonly newest = new Map<string, { ts: number; price: number }>();
  /** Symbols waiting for their catch-up quote. */
  private readonly held = new Set<string>();
  /**
   * Per symbol whose catch-up is owed: the sizes streamed since the outage, with their exchange
   * times. A REST day figure counts the trades up to its own time; the ones after it are added.
   */
  private readonly owed = new Map<string, Array<{ ts: number; size: number }>>();

  trade(symbol: string, price: number, size: number | undefined, ts: number | undefined, rule = REGULAR): void {
    const w = this.window(symbol);
    w.trades++;
    if (size !== undefined && rule.volume) {
      w.size = (w.size ?? 0) + size;
      if (w.dayVolume !== undefined) w.dayVolume += size;
      const owed = this.owed.get(symbol);
      if (owed && ts !== undefined && owed.push({ ts, size }) > MAX_OWED_TRADES) owed.shift();
    }
    if (rule.highLow) {
      w.high = Math.max(w.high ?? price, price);
      w.low = Math.min(w.low ?? price, price);
    }
    if (!this.setsLast(rule)) return;
    const newest = this.newest.get(symbol);
    if (newest !== undefined && ts !== undefined && ts < newest.ts) return;
    w.price = price;
    if (ts !== undefined) w.ts = ts;
    this.newest.set(symbol, { ts: ts ?? newest?.ts ?? 0, price });
  }

  quote(symbol: string, bid: number | undefined, ask: number | undefined): void {
    // A crossed book (bid above ask) is a bad message, not a market.
    if (bid !== undefined && ask !== undefined && bid > ask) return;
    const w = this.window(symbol);
    if (bid !== undefined) w.bid = bid;
    if (ask !== undefined) w.ask = ask;
  }

  /** The stream was lost: `symbols` wait for their catch-up (their next tick says it follows a gap). */
  hold(symbols: Iterable<string>): void {
    for (const s of symbols) {
      this.window(s).gap = true;
      this.held.add(s);
      if (!this.owed.has(s)) this.owed.set(s, []);
    }
  }

  /** `symbols`' catch-ups are over (taken, or given up): their streamed trades are no longer kept. */
  settle(symbols: Iterable<string>): void {
    for (const s of symbols) this.owed.delete(s);
  }

  /**
   * A price fetched over REST to bring the symbol current (after an outage): taken like a
   * trade when it is not older than what the stream already brought.
   */
  catchUp(quote: Pick<Quote, "symbol" | "price" | "ts" | "bid" | "ask" | "dayVolume" | "volume">): void {
    const newest = this.newest.get(quote.symbol);
    const w = this.window(quote.symbol);
    if (quote.bid !== undefined || quote.ask !== undefined) this.quote(quote.symbol, quote.bid, quote.ask);
    // Its day figure counts whatever the age of its price, with the trades streamed after its time.
    const day = quote.dayVolume ?? quote.volume;
    if (day !== undefined) {
      const since = quote.ts === undefined ? [] : (this.owed.get(quote.symbol) ?? []);
      const after = since.reduce((n, t) => (t.ts > quote.ts! ? n + t.size : n), 0);
      w.dayVolume = Math.max(w.dayVolume ?? 0, day + after);
      this.owed.delete(quote.symbol);
    }
    if (newest !== undefined && (quote.ts === undefined || quote.ts < newest.ts)) return;
    w.price = quote.price;
    if (quote.ts !== undefined) w.ts = quote.ts;
    this.newest.set(quote.symbol, { ts: quote.ts ?? newest?.ts ?? 0, price: quote.price });
  }

  /**
   * `symbols`, the most recently traded first: the ones most likely to have traded unseen
   * during an outage come first when the budget cannot catch every symbol up at once.
   */
  newestFirst(symbols: readonly string[]): string[] {
    const at = (s: string) => this.newest.get(s)?.ts ?? Number.NEGATIVE_INFINITY;
    return [...symbols].sort((a, b) => at(b) - at(a));
  }

  /** The catch-up answered (with a quote or without): the held symbols' windows may go out. */
  release(symbols: Iterable<string>): void {
    for (const s of symbols) this.held.delete(s);
  }

  /** Whether the symbol's open window has a price: a trade, or a catch-up quote, since it began. */
  priced(symbol: string): boolean {
    return this.windows.get(symbol)?.price !== undefined;
  }

  /** Whether anything may go out now. */
  get pending(): boolean {
    for (const s of this.windows.keys()) if (!this.held.has(s)) return true;
    return false;
  }

  /** The window's symbols, one entry each; a held symbol, or one with nothing to say (no price known yet), waits. */
  drain(): WindowQuote[] {
    const out: WindowQuote[] = [];
    const keep = new Map<string, Window>();
    for (const [symbol, w] of this.windows) {
      const newest = this.newest.get(symbol);
      // No newer trade in the window: the newest price stands, with its own time.
      const price = w.price ?? newest?.price;
      const ts = w.price !== undefined ? w.ts : newest?.ts || undefined;
      if (price === undefined || this.held.has(symbol)) {
        // Quotes before any trade, or a symbol catching up: hold them.
        keep.set(symbol, w);
        continue;
      }
      out.push({
        symbol,
        price,
        trades: w.trades,
        ...(ts !== undefined ? { ts } : {}),
        ...(w.size !== undefined ? { size: w.size } : {}),
        ...(w.high !== undefined ? { high: w.high, low: w.low } : {}),
        ...(w.bid !== undefined ? { bid: w.bid } : {}),
        ...(w.ask !== undefined ? { ask: w.ask } : {}),
        ...(w.gap ? { gap: true as const } : {}),
        ...(w.dayVolume !== undefined ? { dayVolume: w.dayVolume } : {}),
      });
    }
    this.windows = keep;
    return out;
  }

  /** Forget a symbol (no longer streamed). */
  forget(symbol: string): void {
    this.windows.delete(symbol);
    this.newest.delete(symbol);
    this.held.delete(symbol);
    this.owed.delete(symbol);
  }

  /**
   * Whether a trade under `rule` sets the last price. The tape lets a "first" print (out of
   * sequence, prior reference price…) do so only as the day's first last-eligible trade; one
   * connection cannot know that (the day's first price may have come over REST), so it never does.
   */
  private setsLast(rule: ConditionRule): boolean {
    switch (rule.last) {
      case "yes":
        return true;
      case "first":
      case "no":
        return false;
    }
  }

  private window(symbol: string): Window {
    return entryOf(this.windows, symbol, () => ({ trades: 0 }));
  }
}
