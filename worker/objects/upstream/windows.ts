import type { Env } from "../../env";
import { Coalescer, type WindowQuote } from "../../feeds/stream/coalescer";
import type { Quote } from "../../market/tick";
import type { ConditionRule } from "../../market/trade-conditions";
import type { StreamMetrics } from "../../metrics/stream-metrics";
import { handOver } from "../hand-over";
import { RoundSender } from "../round";

/** A feed delayed by its provider (Alpaca delayed_sip, Polygon's delayed host) is 15 minutes late. */
const PROVIDER_DELAY_MS = 900_000;
/** A catch-up the request budget had no room for is asked again: 1, 2, 4, 8, 8… s later, this many times. */
const CATCH_UP_RETRY_MS = 1_000;
const CATCH_UP_RETRIES = 10;
/** Tries while a symbol is still held for its catch-up (1 + 2 + 4 + 8 s): then it goes out with the newest price known. */
const HELD_RETRIES = 4;

/** Where a catch-up gets its prices. */
export interface CatchUpPorts {
  /** REST quotes within the request budget (those it has no room for get none). */
  rest(symbols: string[]): Promise<Quote[]>;
  /** The sources' newest prices (price and time only). */
  latest(symbols: string[]): Promise<Quote[]>;
  /** Whether a symbol is still streamed (a retry skips the ones that left). */
  wanted(symbol: string): boolean;
}

export interface WindowOptions {
  batchMs: number;
  fanoutDegree: number;
  /** The round tree's name (its relays' names derive from it). */
  roundName: () => string;
  provider: string;
  /** The provider itself delays the feed: ticks say so. */
  delayed: boolean;
}

/**
 * The stream's windows: trades and quotes fill the coalescer; at most every STREAM_BATCH_MS
 * one window goes out, each symbol's tick into its source through `ingest` (as a feed
 * round's does), then one delivery per hub. One window in flight at a time, so a symbol's
 * windows stay in order.
 */
export class StreamWindows {
  private readonly coalescer = new Coalescer();
  private readonly rounds: RoundSender;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  /** When the last window went out. */
  private flushedAt = 0;

  constructor(
    private readonly env: Env,
    private readonly options: WindowOptions,
    private readonly counts: StreamMetrics | undefined,
  ) {
    this.rounds = new RoundSender(env, options.roundName, options.fanoutDegree);
  }

  trade(symbol: string, price: number, size: number | undefined, ts: number | undefined, rule: ConditionRule): void {
    this.coalescer.trade(symbol, price, size, ts, rule);
  }

  quote(symbol: string, bid: number | undefined, ask: number | undefined): void {
    this.coalescer.quote(symbol, bid, ask);
  }

  forget(symbol: string): void {
    this.coalescer.forget(symbol);
  }

  /**
   * After an outage: `all` are held until `rest` brings their REST quotes (within the request
   * budget, the most recently traded asked first); then each goes out once, marked as following
   * a gap, with the newer of the caught-up price and what the stream brought meanwhile (or, when
   * the budget had no room and the stream brought nothing, the source's newest price: the polls
   * kept it current). Those the budget skipped are asked again later, until each has had its
   * REST quote: the trades nobody streamed during the outage are in its day volume, and no bar
   * may lose them.
   */
  async catchUp(all: string[], ports: CatchUpPorts): Promise<void> {
    if (all.length === 0) return;
    const symbols = this.coalescer.newestFirst(all);
    this.coalescer.hold(symbols);
    let held = symbols;
    let missed = symbols;
    try {
      missed = this.take(symbols, await ports.rest(symbols).catch(() => []));
      // Neither a REST answer (the polls spent the budget) nor a trade since: held a while longer,
      // asked again, so its one gap tick carries the provider's current price.
      for (let attempt = 0; ; attempt++) {
        const waiting = held.filter((s) => missed.includes(s) && !this.coalescer.priced(s) && ports.wanted(s));
        this.coalescer.release(held.filter((s) => !waiting.includes(s)));
        this.schedule();
        held = waiting;
        if (held.length === 0 || attempt >= HELD_RETRIES) break;
        await new Promise((r) => setTimeout(r, CATCH_UP_RETRY_MS * 2 ** attempt));
        const none = this.take(held, await ports.rest(held).catch(() => []));
        missed = missed.filter((s) => !held.includes(s) || none.includes(s));
      }
      if (held.length > 0) for (const q of await ports.latest(held).catch(() => [])) this.coalescer.catchUp(q);
    } finally {
      this.coalescer.release(held);
      this.schedule();
    }
    try {
      for (let attempt = 0; missed.length > 0 && attempt < CATCH_UP_RETRIES; attempt++) {
        await new Promise((r) => setTimeout(r, CATCH_UP_RETRY_MS * 2 ** Math.min(attempt, 3)));
        missed = missed.filter(ports.wanted);
        if (missed.length === 0) return;
        missed = this.take(missed, await ports.rest(missed).catch(() => []));
        this.schedule();
      }
    } finally {
      this.coalescer.settle(all);
    }
  }

  /** Takes REST catch-up quotes; returns the symbols that got none. */
  private take(symbols: string[], quotes: Quote[]): string[] {
    for (const q of quotes) this.coalescer.catchUp(q);
    const got = new Set(quotes.map((q) => q.symbol));
    return symbols.filter((s) => !got.has(s));
  }

  /**
   * Windows start at most every STREAM_BATCH_MS, counted from the previous window's start (not
   * its end: the ingest time is not added to every tick's wait); after a quiet spell the first
   * trade goes out at once and the ones after it wait for the next window.
   */
  schedule(): void {
    if (this.timer || this.flushing || !this.coalescer.pending) return;
    const wait = Math.max(0, this.flushedAt + this.options.batchMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  private async flush(): Promise<void> {
    const window = this.coalescer.drain();
    if (window.length === 0) return;
    this.flushedAt = Date.now();
    this.flushing = true;
    this.counts?.ticks(window.length);
    try {
      const ingested = await Promise.all(
        window.map((w) => handOver(this.env, w.symbol, { symbol: w.symbol, quote: this.quoteOf(w) })),
      );
      this.rounds.send(ingested);
    } finally {
      this.flushing = false;
      this.schedule();
    }
  }

  private quoteOf(w: WindowQuote): Quote {
    return {
      symbol: w.symbol,
      price: w.price,
      source: this.options.provider,
      ...(w.ts !== undefined ? { ts: w.ts } : {}),
      // Nothing that counts traded: the tick says 0, so it never looks like a day figure's growth.
      size: w.size ?? 0,
      ...(w.high !== undefined ? { high: w.high, low: w.low } : {}),
      ...(w.bid !== undefined ? { bid: w.bid } : {}),
      ...(w.ask !== undefined ? { ask: w.ask } : {}),
      ...(w.gap ? { gap: true as const } : {}),
      ...(w.dayVolume !== undefined ? { dayVolume: w.dayVolume } : {}),
      ...(this.options.delayed ? { delayed: true as const, delayMs: PROVIDER_DELAY_MS } : {}),
    };
  }
}
