import type { Fault } from "../../feeds/fault";
import type { BarHistory } from "../../feeds/provider";
import { simulatedBars } from "../../feeds/sim-history";
import { log } from "../../log";
import { type Bar, dayFigures } from "../../market/bars";
import { recentSessions, sessionAt } from "../../market/sessions";
import type { Quote, Tick } from "../../market/tick";
import type { BarStream } from "./bar-stream";
import type { SourceBars } from "./bars";

/** What a symbol's history backfill needs from its source. */
export interface BackfillWiring {
  symbol: string;
  /** FEED_PROVIDER: the simulator draws a history, a real provider is asked for one. */
  provider: string;
  simSeed: string;
  barDays: number;
  bars: SourceBars;
  barStream: BarStream;
  latest(): Tick | undefined;
  /** The provider's one-minute bars of `[from, to)`, through the scheduler's request budget. */
  minuteBars(from: number, to: number): Promise<BarHistory | { fault: Fault }>;
  /** Keeps why the history is short (survives restarts). */
  storePartial(partial: string): Promise<void>;
}

/**
 * A symbol's BAR_DAYS of one-minute history: the simulator draws it at once, ending on the
 * first price so live ticks continue it; a real provider's comes from its aggregates
 * endpoint after the first price (never delaying it), marked partial when it gave less.
 */
export class Backfill {
  /** A source that had prices before it kept bars is backfilled once per instance, when its bars are first asked for. */
  private checked = false;

  constructor(
    private readonly w: BackfillWiring,
    /** Why the backfilled history covers less than BAR_DAYS, if it does. */
    public partial: string | undefined,
  ) {}

  /**
   * A symbol's first quote: committed with its history's day figures (the simulator's), and
   * a real provider's history fetched once it is committed.
   */
  first(quote: Quote, commit: (quote: Quote) => void): void {
    const empty = this.w.bars.isEmpty();
    this.checked = true;
    if (this.w.provider !== "sim" || !empty) {
      commit(quote);
      if (empty) void this.fromProvider();
      return;
    }
    const bars = this.simulated(quote.price);
    const day = bars.length > 0 ? dayFigures(this.w.symbol, bars) : undefined;
    commit(day ? { ...quote, ...day } : quote);
  }

  /** A symbol with prices but no bars (it ticked before bars were kept): its history, once. */
  once(): void {
    if (this.checked) return;
    this.checked = true;
    const latest = this.w.latest();
    // Only the feed's own symbols: a publisher's prices have no history anywhere else.
    if (!latest || latest.source !== this.w.provider || !this.w.bars.isEmpty()) return;
    if (this.w.provider === "sim") this.simulated(latest.price);
    else void this.fromProvider();
  }

  /** The simulator's BAR_DAYS trading days, drawn at once from its price function, ending on `price`. */
  private simulated(price: number): Bar[] {
    const { symbol, simSeed, barDays } = this.w;
    const now = Date.now();
    const bars = simulatedBars(symbol, simSeed, recentSessions(symbol, now, barDays), now, price);
    if (bars.length === 0) return bars;
    this.w.bars.put(bars);
    this.w.barStream.seed(bars);
    log("bars_backfilled", { symbol, source: "sim", bars: bars.length });
    return bars;
  }

  /** The last BAR_DAYS trading days up to the first live bar, from the provider within the request budget. */
  private async fromProvider(): Promise<void> {
    const { symbol, provider, barDays } = this.w;
    const firstLive = this.w.bars.newest()?.t ?? Math.floor(Date.now() / 60_000) * 60_000;
    const [oldest] = recentSessions(symbol, firstLive, barDays);
    if (!oldest || oldest.open >= firstLive) return;
    let partial: string | undefined;
    try {
      const result = await this.w.minuteBars(oldest.open, firstLive);
      if ("fault" in result) {
        partial = `no history: ${result.fault.reason}`;
      } else {
        const bars = result.bars.filter((b) => b.t < firstLive && sessionAt(symbol, b.t));
        this.w.bars.put(bars);
        partial = result.partial;
        log("bars_backfilled", { symbol, source: provider, bars: bars.length, ...(partial ? { partial } : {}) });
      }
    } catch (err) {
      partial = `no history: ${String(err)}`;
    }
    this.partial = partial;
    if (partial) await this.w.storePartial(partial);
  }
}
