import type { Quote } from "../../market/tick";
import { entryOf } from "../../multimap";

/** What one symbol did within a window: becomes one tick. */
export interface WindowQuote {
  symbol: string;
  /** The last trade's price (or, with quotes only, the last known price). */
  price: number;
  /** The last trade's exchange time. */
  ts?: number;
  /** Sum of the window's trade sizes (absent when no trade said its size). */
  volume?: number;
  /** The window's highest and lowest trade. */
  high?: number;
  low?: number;
  bid?: number;
  ask?: number;
  trades: number;
  /** The first tick after an outage of the stream: prices in between were not seen. */
  gap?: true;
}

/** A symbol's window while it fills (no price yet when only quotes came). */
type Window = Omit<WindowQuote, "symbol" | "price"> & { price?: number };

/**
 * Trades and quotes of each symbol within one STREAM_BATCH_MS window become one tick: the
 * last price, summed volume, the window's high and low; quotes update bid/ask. A trade older
 * than the newest one already taken (out of order, or replayed after a reconnect) still
 * counts toward volume, high and low, but never moves the price backwards. Pure.
 */
export class Coalescer {
  private windows = new Map<string, Window>();
  /** Per symbol: the newest trade taken (exchange time) and its price, across windows. */
  private readonly newest = new Map<string, { ts: number; price: number }>();

  trade(symbol: string, price: number, size: number | undefined, ts: number | undefined): void {
    const w = this.window(symbol);
    w.trades++;
    if (size !== undefined) w.volume = (w.volume ?? 0) + size;
    w.high = Math.max(w.high ?? price, price);
    w.low = Math.min(w.low ?? price, price);
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

  /**
   * A price fetched over REST to bring the symbol current (after a reconnect): taken like a
   * trade when it is not older than what the stream already brought. (The gap is marked
   * once, by `markGap`, on whichever tick goes out first.)
   */
  catchUp(quote: Pick<Quote, "symbol" | "price" | "ts" | "bid" | "ask">): void {
    const newest = this.newest.get(quote.symbol);
    const w = this.window(quote.symbol);
    if (quote.bid !== undefined || quote.ask !== undefined) this.quote(quote.symbol, quote.bid, quote.ask);
    if (newest !== undefined && (quote.ts === undefined || quote.ts < newest.ts)) return;
    w.price = quote.price;
    if (quote.ts !== undefined) w.ts = quote.ts;
    this.newest.set(quote.symbol, { ts: quote.ts ?? newest?.ts ?? 0, price: quote.price });
  }

  /** The next tick of `symbol` says it follows an outage. */
  markGap(symbol: string): void {
    this.window(symbol).gap = true;
  }

  /** Whether anything waits to go out. */
  get pending(): boolean {
    return this.windows.size > 0;
  }

  /** The window's symbols, one entry each; a symbol with nothing to say (no price known yet) waits. */
  drain(): WindowQuote[] {
    const out: WindowQuote[] = [];
    const keep = new Map<string, Window>();
    for (const [symbol, w] of this.windows) {
      const newest = this.newest.get(symbol);
      // No newer trade in the window: the newest price stands, with its own time.
      const price = w.price ?? newest?.price;
      const ts = w.price !== undefined ? w.ts : newest?.ts || undefined;
      if (price === undefined) {
        // Quotes before any trade: hold them until a price is known.
        keep.set(symbol, w);
        continue;
      }
      out.push({
        symbol,
        price,
        trades: w.trades,
        ...(ts !== undefined ? { ts } : {}),
        ...(w.volume !== undefined ? { volume: w.volume } : {}),
        ...(w.high !== undefined ? { high: w.high, low: w.low } : {}),
        ...(w.bid !== undefined ? { bid: w.bid } : {}),
        ...(w.ask !== undefined ? { ask: w.ask } : {}),
        ...(w.gap ? { gap: true as const } : {}),
      });
    }
    this.windows = keep;
    return out;
  }

  /** Forget a symbol (no longer streamed). */
  forget(symbol: string): void {
    this.windows.delete(symbol);
    this.newest.delete(symbol);
  }

  private window(symbol: string): Window {
    return entryOf(this.windows, symbol, () => ({ trades: 0 }));
  }
}
