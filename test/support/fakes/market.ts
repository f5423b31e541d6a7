import { TAPE_RULES, type TradeKind } from "../../fixtures/providers/conditions";
import type { ShiftedClock } from "../clock";

/**
 * The exchange behind a fake provider, and the truth tests read: every trade (price, size,
 * its exchange time, its condition), each symbol's day so far (what the provider's REST
 * snapshot reports), the day's volume, the sizes traded in each minute, the last price by
 * the consolidated tape's rules. Symbols are the provider's own names (BTCUSDT on Binance).
 * A feed the provider delays (Alpaca delayed_sip, Polygon's delayed host) shows trades
 * stamped `delayMs` before they are sent.
 */
export interface MarketTrade {
  /** The exchange's trade id (increasing). */
  id: number;
  symbol: string;
  price: number;
  size: number;
  /** Exchange time (epoch ms on the market's clock). */
  ts: number;
  kind: TradeKind;
  /** When the fake published it (market clock): `ts + delayMs`. */
  publishedAt: number;
}

/** A symbol's day before the first trade the fake makes (what "earlier today" was). */
export interface DayBefore {
  open: number;
  high: number;
  low: number;
  /** The previous session's close. */
  prevClose: number;
  /** Traded so far today (shares or coins), before the fake's own trades. */
  volume: number;
  /** The last price so far today. */
  last: number;
  /** Rolling 24-hour volume at the moment the market opened (crypto REST tickers report it). */
  volume24h?: number;
  /** Yesterday's whole-day volume (what slides out of the rolling 24 hours). */
  prevVolume?: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

interface SymbolBook {
  before: DayBefore;
  trades: MarketTrade[];
  /** Since when the day's history is spread over minutes (session open, or UTC midnight). */
  dayStart: number;
}

export class Market {
  private readonly books = new Map<string, SymbolBook>();
  private readonly listeners = new Set<(trade: MarketTrade) => void>();
  private nextId = 1;
  /** When the market was created (market clock): the history's end. */
  readonly openedAt: number;

  constructor(
    readonly clock: ShiftedClock,
    /** How late the provider publishes trades (a delayed feed: 15 minutes). */
    readonly delayMs = 0,
  ) {
    this.openedAt = clock.now();
  }

  now(): number {
    return this.clock.now();
  }

  /** Lists `symbol` with its day so far (a symbol never listed is unknown to the provider). */
  list(symbol: string, before: Partial<DayBefore> & { last: number }, dayStart?: number): void {
    const last = before.last;
    this.books.set(symbol, {
      before: {
        open: before.open ?? last,
        high: before.high ?? Math.max(last, before.open ?? last),
        low: before.low ?? Math.min(last, before.open ?? last),
        prevClose: before.prevClose ?? last,
        volume: before.volume ?? 0,
        last,
        ...(before.volume24h !== undefined ? { volume24h: before.volume24h } : {}),
        ...(before.prevVolume !== undefined ? { prevVolume: before.prevVolume } : {}),
      },
      trades: [],
      dayStart: dayStart ?? Math.floor(this.openedAt / DAY) * DAY,
    });
  }

  known(symbol: string): boolean {
    return this.books.has(symbol);
  }

  symbols(): string[] {
    return [...this.books.keys()];
  }

  /** Called with every trade as it is published. */
  listen(fn: (trade: MarketTrade) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A trade now (stamped `delayMs` earlier on a delayed feed), published at once. */
  trade(symbol: string, price: number, size: number, kind: TradeKind = "regular"): MarketTrade {
    const book = this.book(symbol);
    const publishedAt = this.now();
    const trade: MarketTrade = {
      id: this.nextId++,
      symbol,
      price,
      size,
      ts: publishedAt - this.delayMs,
      kind,
      publishedAt,
    };
    book.trades.push(trade);
    for (const fn of this.listeners) fn(trade);
    return trade;
  }

  // ------------------------------------------------------------------ truth

  trades(symbol: string): readonly MarketTrade[] {
    return this.book(symbol).trades;
  }

  before(symbol: string): DayBefore {
    return this.book(symbol).before;
  }

  /** The day's volume so far: the history plus every volume-eligible trade. */
  dayVolume(symbol: string): number {
    const book = this.book(symbol);
    return book.before.volume + sum(book.trades.filter((t) => TAPE_RULES[t.kind].volume).map((t) => t.size));
  }

  /** The last price by the tape's rules, and the time of the trade that set it. */
  last(symbol: string): { price: number; ts?: number } {
    const eligible = this.book(symbol).trades.filter((t) => TAPE_RULES[t.kind].last);
    const newest = eligible.reduce<MarketTrade | undefined>(
      (a, t) => (a === undefined || t.ts >= a.ts ? t : a),
      undefined,
    );
    return newest ? { price: newest.price, ts: newest.ts } : { price: this.book(symbol).before.last };
  }

  /** The newest trade of any condition (what "latest trade" endpoints report). */
  latestTrade(symbol: string): MarketTrade | undefined {
    return this.book(symbol).trades.at(-1);
  }

  high(symbol: string): number {
    const book = this.book(symbol);
    return Math.max(book.before.high, ...book.trades.filter((t) => TAPE_RULES[t.kind].highLow).map((t) => t.price));
  }

  low(symbol: string): number {
    const book = this.book(symbol);
    return Math.min(book.before.low, ...book.trades.filter((t) => TAPE_RULES[t.kind].highLow).map((t) => t.price));
  }

  /** Volume traded in each minute (by the trades' exchange times), the fake's own trades only. */
  minuteVolumes(symbol: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const t of this.book(symbol).trades) {
      if (!TAPE_RULES[t.kind].volume) continue;
      const m = Math.floor(t.ts / MINUTE) * MINUTE;
      out.set(m, (out.get(m) ?? 0) + t.size);
    }
    return out;
  }

  /**
   * The rolling 24-hour volume at `now` (crypto REST tickers): the figure at the market's
   * creation, less yesterday's volume sliding out at an even pace, plus the fake's trades.
   */
  volume24h(symbol: string, now = this.now()): number {
    const { before, trades } = this.book(symbol);
    const base = before.volume24h ?? before.volume;
    const slid = ((before.prevVolume ?? 0) * Math.max(0, now - this.openedAt)) / DAY;
    return Math.max(0, base - slid) + sum(trades.filter((t) => t.ts <= now).map((t) => t.size));
  }

  /**
   * One-minute bars from `from` to `to` (ms): the history spread evenly over the minutes of the
   * day before the market opened, then the fake's trades. What minute-aggregate endpoints serve.
   */
  minuteBars(symbol: string, from: number, to: number): Bar[] {
    const book = this.book(symbol);
    const bars = new Map<number, Bar>();
    const first = Math.ceil(book.dayStart / MINUTE) * MINUTE;
    // The history ends where the feed stood when the market opened (15 minutes back on a delayed feed).
    const end = Math.floor((this.openedAt - this.delayMs) / MINUTE) * MINUTE;
    const minutes = Math.max(1, (end - first) / MINUTE);
    const per = Math.floor(book.before.volume / minutes);
    for (let t = first, i = 0; t < end; t += MINUTE, i++) {
      const v = i === minutes - 1 ? book.before.volume - per * (minutes - 1) : per;
      const p = book.before.last;
      bars.set(t, { t, o: p, h: p, l: p, c: p, v, n: v > 0 ? 1 : 0 });
    }
    for (const trade of book.trades) {
      const t = Math.floor(trade.ts / MINUTE) * MINUTE;
      const rules = TAPE_RULES[trade.kind];
      const bar = bars.get(t);
      if (!bar) {
        bars.set(t, {
          t,
          o: trade.price,
          h: trade.price,
          l: trade.price,
          c: trade.price,
          v: rules.volume ? trade.size : 0,
          n: 1,
        });
        continue;
      }
      if (rules.highLow) {
        bar.h = Math.max(bar.h, trade.price);
        bar.l = Math.min(bar.l, trade.price);
      }
      if (rules.last) bar.c = trade.price;
      if (rules.volume) bar.v += trade.size;
      bar.n += 1;
    }
    return [...bars.values()].filter((b) => b.t >= from && b.t <= to).sort((a, b) => a.t - b.t);
  }

  private book(symbol: string): SymbolBook {
    const book = this.books.get(symbol);
    if (!book) throw new Error(`the fake market does not list ${symbol}`);
    return book;
  }
}

export interface Bar {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
