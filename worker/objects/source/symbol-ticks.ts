import { buildTickFrame, type StreamFrame } from "../../broker/stream-frame";
import { VOLUME_ATTRIBUTION_MS } from "../../market/day-volume";
import {
  countedOnce,
  type FigureThrough,
  figureThrough,
  isOutOfOrder,
  nextTick,
  type Quote,
  type Tick,
  withDayFigures,
} from "../../market/tick";
import type { Freshness } from "./freshness";
import type { TickHistory } from "./history";
import type { StreamBehaviour } from "./streams";

/**
 * A symbol's ticker stream in its source: numbers each accepted quote into the next tick
 * (`seq`, within the stream's `epoch`), stores it in the history and renders its frame once.
 * Its latest tick is the snapshot for new subscribers; its history answers gap fills.
 */
export class SymbolTicks implements StreamBehaviour {
  latest: Tick | undefined;
  latestFrame: StreamFrame | undefined;
  epoch = "";
  /** What the newest committed REST day figure counted trades through (`countedOnce`). */
  private figure: FigureThrough | undefined;

  constructor(
    readonly history: TickHistory,
    private readonly freshness: Freshness,
  ) {}

  /** The stored state, read once the source wakes. */
  restore(latest: Tick | undefined, epoch: string): void {
    this.latest = latest;
    this.epoch = epoch;
    if (latest) this.latestFrame = buildTickFrame(latest, epoch);
  }

  /**
   * A feed round's quote, committed if the feed may move the price now (never backwards
   * against the same feed, never over a publisher's hold); without a fresh one, the last good
   * price again, flagged, once it is stale (never a made-up price). The frame to deliver, if any.
   */
  fromFeed(quote: Quote | undefined, now: number, commit: (quote: Quote) => StreamFrame): StreamFrame | undefined {
    const taken = quote ? this.inOrder(quote) : undefined;
    const committed = taken && this.freshness.takeFeedQuote(now) ? commit(taken) : undefined;
    return this.staleAgain(now) ?? committed;
  }

  /**
   * A feed quote as it may be committed: itself (its size counted once), or, observed before
   * the newest tick (a poll crossing the stream), no price move but the day's figures it
   * brings (if any are news).
   */
  inOrder(quote: Quote): Quote | undefined {
    if (this.latest && isOutOfOrder(this.latest, quote)) return withDayFigures(this.latest, quote);
    return countedOnce(quote, this.figure);
  }

  /** Whether a quote is older than the newest tick of the same source (it must not move the price back). */
  behind(quote: Quote): boolean {
    return isOutOfOrder(this.latest, quote);
  }

  /** Numbers a quote into the next tick (arrived at `now`), stores it and returns its frame. */
  commit(quote: Quote, now: number): StreamFrame {
    // A price from the future would look newer than any that comes after it.
    const timed = { ...quote, ts: Math.min(quote.ts ?? now, now) };
    const staleAfterMs = this.freshness.staleAfterMs();
    this.figure = figureThrough(timed) ?? this.figure;
    return this.record({
      // A day total's growth counts as traded here if the last observation is within two update intervals.
      ...nextTick(this.latest, timed, now, Math.max(VOLUME_ATTRIBUTION_MS, staleAfterMs)),
      staleAfterMs,
    });
  }

  /** The last good price again, flagged stale, once it is (nothing traded in it); nothing otherwise. */
  private staleAgain(now: number): StreamFrame | undefined {
    const latest = this.latest;
    if (!latest || latest.stale || !this.freshness.isStale(now)) return undefined;
    const { size: _traded, ...again } = latest;
    return this.record({ ...again, seq: latest.seq + 1, stale: true });
  }

  /** The snapshot for a hub that starts holding the stream: the latest tick. */
  snapshot(): StreamFrame | undefined {
    return this.latestFrame;
  }

  /** The last `limit` ticks, oldest first; at least the latest one (ticks from before history was kept). */
  recent(limit: number): Tick[] {
    const ticks = this.history.latest(limit).reverse();
    return ticks.length > 0 || !this.latest ? ticks : [this.latest];
  }

  /** Frames with `after < seq < before`, oldest first, at most `limit`. */
  range(after: number, before: number, limit: number): StreamFrame[] {
    const rows = this.history.between(after, before, limit);
    return rows.map((r, i) => buildTickFrame(r.tick, this.epoch, rows[i - 1]?.tick));
  }

  /**
   * Stores one tick (arrived now) and makes its frame. The output gate holds every delivery
   * until the write is durable, so a seq is never seen by a client and then lost.
   */
  private record(tick: Tick): StreamFrame {
    const previous = this.latest;
    this.latest = tick;
    this.history.append(tick, Date.now());
    this.latestFrame = buildTickFrame(tick, this.epoch, previous);
    return this.latestFrame;
  }
}
