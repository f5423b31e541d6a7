import type { StreamFrame } from "../../broker/stream-frame";
import type { Config } from "../../config";
import type { Fault } from "../../feeds/fault";
import type { BarHistory } from "../../feeds/provider";
import { log } from "../../log";
import { type Interval, MINUTE_MS } from "../../market/bars";
import type { Quote, Tick } from "../../market/tick";
import { Backfill } from "./backfill";
import { BarStream } from "./bar-stream";
import { type BarRead, type FoldedTick, SourceBars } from "./bars";
import { type HistoryGap, HistoryGaps } from "./history-gaps";
import { LateTrades } from "./late-trades";
import type { StreamBehaviour } from "./streams";

/** What a symbol's bars need from its source. */
export interface SymbolBarsWiring {
  epoch(): string;
  latest(): Tick | undefined;
  sendLive(frame: StreamFrame): void;
  sendDelayed(frame: StreamFrame): void;
  minuteBars(from: number, to: number): Promise<BarHistory | { fault: Fault }>;
  storeGaps(gaps: HistoryGap[]): Promise<void>;
  /** What the stored history lacks, as last stored. */
  gaps: readonly HistoryGap[];
}

/**
 * A symbol's one-minute bars as one part of its source: the stored bars (`SourceBars`), their
 * live and delayed streams (`BarStream`) and their history (`Backfill`). The source folds each
 * trade in and reads them; the bar streams' behaviours read the rest.
 */
export class SymbolBars {
  private readonly bars: SourceBars;
  private readonly stream: BarStream;
  private readonly backfill: Backfill;
  private readonly late = new LateTrades();

  constructor(
    sql: SqlStorage,
    private readonly symbol: string,
    config: Config,
    w: SymbolBarsWiring,
  ) {
    this.stream = new BarStream(sql, symbol, config.auth.publicDelayMs, {
      epoch: w.epoch,
      closeDue: (now) => this.bars.closeDue(now),
      forming: (now) => this.bars.forming(now),
      sendLive: w.sendLive,
      sendDelayed: w.sendDelayed,
    });
    // A bar the stream sent final before a restart is not resumed as forming (it would go out final again).
    this.bars = new SourceBars(sql, symbol, config.barDays, w.latest, this.stream.newestFinal());
    this.stream.resume(this.bars.unsent);
    const { feedProvider: provider, simSeed, barDays } = config;
    const wiring = { ...w, symbol, provider, simSeed, barDays, bars: this.bars, barStream: this.stream };
    this.backfill = new Backfill(wiring, new HistoryGaps(w.gaps));
  }

  /**
   * A trade (arrived at `now`) changes the forming bar, closes it, or corrects a final one.
   * `moveClock`: the tick is the symbol's newest, so its feed's clock is the bars' clock now.
   */
  fold(tick: FoldedTick, now: number, moveClock = true): void {
    const change = this.bars.fold(tick, now, moveClock);
    if (change.kind === "ignored" && change.reason === "too-late") {
      const clock = now - (tick.delayed ? (tick.delayMs ?? 0) : 0);
      const lateMs = clock - (Math.floor(tick.ts / MINUTE_MS) + 1) * MINUTE_MS;
      const report = this.late.refused(tick.size ?? 0, lateMs, now);
      if (report) log("bars_late_refused", { symbol: this.symbol, ...report });
    }
    this.stream.changed(change, now);
  }

  /**
   * A cold symbol's REST quote that came after its first streamed tick: the day's figures it
   * brings (`inOrder`: the quote as it may be committed, if at all), and its history, once.
   */
  firstAfterStream(inOrder: Quote | undefined, commit: (quote: Quote) => void): void {
    if (inOrder) commit(inOrder);
    this.backfill.afterStream();
  }

  /** The symbol's first quote, with its history (see `Backfill.first`). */
  first(quote: Quote, commit: (quote: Quote) => void): void {
    this.backfill.first(quote, commit);
  }

  /** Which bar streams hubs hold now. */
  watch(live: boolean, delayed: boolean): void {
    this.stream.watch(live, delayed);
  }

  /** A bar stream's snapshot (its history backfilled first, if the symbol never had one). */
  snapshot(delayed: boolean): StreamFrame[] {
    this.backfill.maintain(Date.now());
    return delayed ? this.stream.delayedSnapshot() : this.stream.snapshot();
  }

  range(delayed: boolean, after: number, before: number, limit: number): StreamFrame[] {
    return delayed ? this.stream.delayedRange(after, before, limit) : this.stream.range(after, before, limit);
  }

  /**
   * Bars of `interval` in `[from, end)` (see `SourceBars.read`), and why their history is
   * short, if it is: a short history is never final.
   */
  read(interval: Interval, from: number, end: number, limit: number, now: number, visibleAt: number): BarRead {
    this.backfill.maintain(now);
    const { final, ...read } = this.bars.read(interval, from, end, limit, now, visibleAt);
    const partial = this.backfill.partial(Math.max(from, this.bars.keptFrom(now)), end);
    if (partial) return { ...read, partial };
    return final ? { ...read, final } : read;
  }
}

/** The live or delayed bar stream's behaviour in the source, reading bars made once the source's state is read. */
export function barStreamBehaviour(bars: () => SymbolBars, delayed: boolean, held: () => void): StreamBehaviour {
  return {
    snapshot: () => bars().snapshot(delayed),
    range: (after, before, limit) => bars().range(delayed, after, before, limit),
    held,
  };
}
