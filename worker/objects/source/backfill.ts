import { type Fault, fault, isUnknownSymbol } from "../../feeds/fault";
import type { BarHistory } from "../../feeds/provider";
import { simulatedBars } from "../../feeds/sim-history";
import { log } from "../../log";
import { type Bar, dayFigures } from "../../market/bars";
import { recentSessions, sessionAt } from "../../market/sessions";
import type { Quote, Tick } from "../../market/tick";
import type { BarStream } from "./bar-stream";
import type { SourceBars } from "./bars";
import type { HistoryGap, HistoryGaps } from "./history-gaps";

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
  /** Keeps what the history lacks (survives restarts). */
  storeGaps(gaps: HistoryGap[]): Promise<void>;
}

/**
 * How long before a history that did not come is asked for again: a fetch gone with an
 * evicted instance, a budget without room, a provider failing just now.
 */
const RETRY_MS = 60_000;

/**
 * A symbol's BAR_DAYS of one-minute history: the simulator draws it at once, ending on the
 * first price so live ticks continue it; a real provider's comes from its aggregates
 * endpoint after the first price (never delaying it). What the provider lacks, or has not
 * answered yet, is kept as gaps; a gap it may fill later is asked for again when bars are
 * read, so a history that was short clears itself once the data is there.
 */
export class Backfill {
  /** A source that had prices before it kept bars is backfilled once per instance, when its bars are first asked for. */
  private checked = false;
  private fetching = false;

  constructor(
    private readonly w: BackfillWiring,
    private readonly gaps: HistoryGaps,
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
      if (empty) this.fromProvider();
      return;
    }
    const bars = this.simulated(quote.price);
    const day = bars.length > 0 ? dayFigures(this.w.symbol, bars) : undefined;
    commit(day ? { ...quote, ...day } : quote);
  }

  /** The first quote came after streamed ticks (bars hold them already): a real provider's history up to them, once. */
  afterStream(): void {
    if (this.checked) return;
    this.checked = true;
    if (this.w.provider !== "sim") this.fromProvider();
  }

  /**
   * Before bars are read: a symbol with prices but no bars (it ticked before bars were kept)
   * gets its history, once; a gap worth asking for again is asked for.
   */
  maintain(now: number): void {
    if (!this.checked) {
      this.checked = true;
      const latest = this.w.latest();
      // Only the feed's own symbols: a publisher's prices have no history anywhere else.
      if (latest && latest.source === this.w.provider && this.w.bars.isEmpty()) {
        if (this.w.provider === "sim") this.simulated(latest.price);
        else this.fromProvider();
        return;
      }
    }
    if (this.fetching) return;
    if (this.gaps.trim(this.w.bars.keptFrom(now))) void this.w.storeGaps(this.gaps.list());
    const due = this.gaps.due(now);
    if (due) void this.fetch(due.from, due.to);
  }

  /** Why `[from, to)` is short of history, if it is. */
  partial(from: number, to: number): string | undefined {
    return this.gaps.reasons(from, to);
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
  private fromProvider(): void {
    const { symbol, barDays } = this.w;
    const firstLive = this.w.bars.newest()?.t ?? Math.floor(Date.now() / 60_000) * 60_000;
    const [oldest] = recentSessions(symbol, firstLive, barDays);
    if (oldest && oldest.open < firstLive) void this.fetch(oldest.open, firstLive);
  }

  /** Asks the provider for `[from, to)`; until it answers, that stretch is a gap (reads of it are partial). */
  private async fetch(from: number, to: number): Promise<void> {
    const { symbol, provider } = this.w;
    this.fetching = true;
    const reason = `the history is being fetched from ${provider}`;
    this.gaps.add({ from, to, reason, retryAt: Date.now() + RETRY_MS });
    void this.w.storeGaps(this.gaps.list());
    let result: BarHistory | { fault: Fault };
    try {
      result = await this.w.minuteBars(from, to);
    } catch (err) {
      result = { fault: fault("upstream", String(err)) };
    }
    this.gaps.fill(from, to);
    if ("fault" in result) {
      const f = result.fault;
      // A provider without this history will not have it later; a failure just now may pass.
      const retryAt = isUnknownSymbol(f) ? undefined : Date.now() + Math.max(RETRY_MS, f.retryAfterMs ?? 0);
      this.gaps.add({ from, to, reason: `no history: ${f.reason}`, ...retry(retryAt) });
    } else {
      const bars = result.bars.filter((b) => b.t >= from && b.t < to && sessionAt(symbol, b.t));
      this.w.bars.put(bars);
      for (const m of result.missing ?? [])
        this.gaps.add({ from: m.from, to: m.to, reason: m.reason, ...retry(m.retryAt) });
      const partial = this.gaps.reasons(from, to);
      log("bars_backfilled", { symbol, source: provider, bars: bars.length, ...(partial ? { partial } : {}) });
    }
    this.fetching = false;
    await this.w.storeGaps(this.gaps.list());
  }
}

function retry(at: number | undefined): { retryAt?: number } {
  return at === undefined ? {} : { retryAt: at };
}
