import type { StreamFrame } from "../../broker/stream-frame";
import type { Config } from "../../config";
import type { Fault } from "../../feeds/fault";
import type { BarHistory } from "../../feeds/provider";
import type { Interval } from "../../market/bars";
import type { Quote, Tick } from "../../market/tick";
import { Backfill } from "./backfill";
import { BarStream } from "./bar-stream";
import { type BarRead, SourceBars } from "./bars";
import type { StreamBehaviour } from "./streams";

/** What a symbol's bars need from its source. */
export interface SymbolBarsWiring {
  epoch(): string;
  latest(): Tick | undefined;
  sendLive(frame: StreamFrame): void;
  sendDelayed(frame: StreamFrame): void;
  minuteBars(from: number, to: number): Promise<BarHistory | { fault: Fault }>;
  storePartial(partial: string): Promise<void>;
  /** Why the stored history is short, as last stored. */
  partial: string | undefined;
}

/**
 * A symbol's one-minute bars as one part of its source: the stored bars (`SourceBars`), their
 * live and delayed streams (`BarStream`) and their history (`Backfill`). The source folds each
 * tick in and reads them; the bar streams' behaviours read the rest.
 */
export class SymbolBars {
  private readonly bars: SourceBars;
  private readonly stream: BarStream;
  private readonly backfill: Backfill;

  constructor(sql: SqlStorage, symbol: string, config: Config, w: SymbolBarsWiring) {
    this.bars = new SourceBars(sql, symbol, config.barDays, w.latest());
    this.stream = new BarStream(sql, symbol, config.auth.publicDelayMs, {
      epoch: w.epoch,
      closeDue: (now) => this.bars.closeDue(now),
      forming: (now) => this.bars.forming(now),
      sendLive: w.sendLive,
      sendDelayed: w.sendDelayed,
    });
    const { feedProvider: provider, simSeed, barDays } = config;
    const wiring = { ...w, symbol, provider, simSeed, barDays, bars: this.bars, barStream: this.stream };
    this.backfill = new Backfill(wiring, w.partial);
  }

  /** A new tick (arrived at `now`) changes the forming bar, or closes it. */
  fold(tick: Tick, now: number): void {
    this.stream.changed(this.bars.fold(tick, now), now);
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
    this.backfill.once();
    return delayed ? this.stream.delayedSnapshot() : this.stream.snapshot();
  }

  range(delayed: boolean, after: number, before: number, limit: number): StreamFrame[] {
    return delayed ? this.stream.delayedRange(after, before, limit) : this.stream.range(after, before, limit);
  }

  /** Bars of `interval` in `[from, to)` (see `SourceBars.read`), and why the history is short, if it is. */
  read(interval: Interval, from: number, to: number, limit: number, now: number, visibleAt: number): BarRead {
    this.backfill.once();
    const read = this.bars.read(interval, from, to, limit, now, visibleAt);
    const partial = this.backfill.partial;
    return partial ? { ...read, partial } : read;
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
