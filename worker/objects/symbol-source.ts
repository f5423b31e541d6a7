import { DurableObject } from "cloudflare:workers";
import type { StreamFrame } from "../broker/stream-frame";
import { BARS, STREAMS, type StreamKind, TICKS, VIEWERS } from "../broker/streams";
import { type Config, readConfig } from "../config";
import type { Env } from "../env";
import { treeShape } from "../fanout/tree";
import type { QuoteResult } from "../feeds/provider";
import { isUnavailable, type Unavailable } from "../feeds/unavailable";
import type { Interval } from "../market/bars";
import type { DelayedTick } from "../market/delay";
import type { Quote, Tick } from "../market/tick";
import { deliverVia } from "./deliver";
import type { Ingested } from "./round";
import type { BarRead } from "./source/bars";
import { DelayedStream, notYetReleased } from "./source/delayed-stream";
import { Freshness } from "./source/freshness";
import { TickHistory } from "./source/history";
import { Registration } from "./source/registration";
import { restoreSource } from "./source/stored";
import { SourceStreams } from "./source/streams";
import { barStreamBehaviour, SymbolBars } from "./source/symbol-bars";
import { SymbolTicks } from "./source/symbol-ticks";
import { ViewerCounts } from "./source/viewer-counts";
import { schedulerFor } from "./stubs";

/**
 * One object per symbol, the only owner of its streams: it numbers each price (`seq`,
 * within an `epoch` made once, when the stored state is created), stores it, and sends it
 * on. Prices come from its feed-scheduler shard (within the request budget) or from
 * publishers. It wires small parts: the tick history, its streams (live and delayed ticks,
 * viewer counts, live and delayed one-minute bars: `SourceStreams`, one per kind of the
 * table in broker/streams.ts, each with the hubs holding it and its fan-out), the delayed
 * stream's releases, the viewer count's reports, the bars and their backfill. A published
 * tick leaves through the live fan-out; a feed round's tick goes back to the scheduler,
 * which sends the whole round to each hub at once. Every tick it accepts, either way, is
 * also folded into its one-minute bars, whose paced updates leave through the bar streams.
 * It is registered with the scheduler while any hub holds a stream that needs prices.
 */
export class SymbolSource extends DurableObject<Env> {
  private readonly config: Config;
  private readonly symbol: string;
  private readonly ticks: SymbolTicks;
  private readonly streams: SourceStreams;
  /** One-minute bars, their streams and their history, made once the stored state is read. */
  private bars!: SymbolBars;
  private readonly delayed: DelayedStream;
  private readonly viewerCounts: ViewerCounts;
  private readonly freshness: Freshness;
  private readonly registration: Registration;
  private firstQuote: Promise<StreamFrame | Unavailable> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    const name = ctx.id.name;
    if (!name) throw new Error("SymbolSource must be addressed by name (idFromName(symbol))");
    this.symbol = name;
    this.freshness = new Freshness(this.config, 0, Date.now());
    this.registration = new Registration(name, () => schedulerFor(env, name, this.config.schedulerShards));
    const { sql } = ctx.storage;
    const delayMs = this.config.auth.publicDelayMs;
    this.ticks = new SymbolTicks(new TickHistory(sql, this.config.historySize, delayMs), this.freshness);
    const history = this.ticks.history;
    const bars = () => this.bars.watch(this.held(BARS.live), this.held(BARS.delayed));
    this.streams = new SourceStreams(sql, name, this.config.fanoutDegree, deliverVia(env), {
      [TICKS.live]: {
        snapshot: () => this.ticks.latestFrame,
        range: (after, before, limit) => this.ticks.range(after, before, limit),
      },
      [TICKS.delayed]: {
        snapshot: () => {
          this.releaseDelayed();
          return this.delayed.snapshot;
        },
        range: (after, before, limit) => this.delayed.framesOf(history.between(after, before, limit)),
        held: (holders) => holders.size === 0 && this.delayed.stop(),
      },
      [VIEWERS]: { snapshot: () => this.viewerCounts.frame, range: () => [] },
      [BARS.live]: barStreamBehaviour(() => this.bars, false, bars),
      [BARS.delayed]: barStreamBehaviour(() => this.bars, true, bars),
    });
    this.delayed = new DelayedStream(
      history,
      delayMs,
      () => this.ticks.epoch,
      (frame) => this.streams.send(TICKS.delayed, frame),
    );
    this.viewerCounts = new ViewerCounts(
      name,
      () => this.streams.viewers(),
      (frame) => this.streams.send(VIEWERS, frame),
    );
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await restoreSource(ctx.storage, history.newest());
      this.ticks.restore(stored.latest, stored.epoch);
      this.freshness.publishedAt = stored.publishedAt;
      const scheduler = schedulerFor(env, name, this.config.schedulerShards);
      this.bars = new SymbolBars(sql, name, this.config, {
        epoch: () => this.ticks.epoch,
        latest: () => this.ticks.latest,
        sendLive: (frame) => this.streams.send(BARS.live, frame),
        sendDelayed: (frame) => this.streams.send(BARS.delayed, frame),
        minuteBars: (from, to) => scheduler.minuteBars(name, from, to),
        storeGaps: (gaps) => ctx.storage.put("barGaps", gaps),
        gaps: stored.barGaps,
      });
      bars();
    });
  }

  // ---------------------------------------------------------------- hubs

  /**
   * A hub holds `count` subscriptions of one of this symbol's streams; returns its snapshot
   * (the latest frame; a bar stream's recent ones), or nothing while no tick is old enough
   * for the delayed stream.
   */
  async attach(
    hub: string,
    count: number,
    stream: StreamKind = TICKS.live,
  ): Promise<StreamFrame | StreamFrame[] | undefined> {
    if (STREAMS[stream].activates) {
      const frame = await this.ensureLatest();
      // No price, no subscription: the hub turns this into an ERROR for its subscriber.
      if (isUnavailable(frame)) throw new Error(frame.reason);
    }
    this.hold(stream, hub, Math.max(1, count));
    if (STREAMS[stream].activates && !(await this.registration.follow(this.streams.active()))) {
      this.hold(stream, hub, 0);
      throw new Error(
        `too many symbols are being watched right now (MAX_ACTIVE_SYMBOLS=${this.config.maxActiveSymbols})`,
      );
    }
    return this.streams.snapshot(stream);
  }

  /** A hub's subscription count of one of this symbol's streams changed (0: it holds none any more). */
  async interest(hub: string, count: number, stream: StreamKind = TICKS.live): Promise<void> {
    this.hold(stream, hub, count);
    if (STREAMS[stream].activates) await this.registration.follow(this.streams.active());
  }

  /**
   * Frames with `after < seq < before`, oldest first, at most `limit`: a hub fills a gap, or
   * a client resumes. The delayed stream's stop at the first tick not yet old enough.
   */
  range(after: number, before: number, limit?: number, stream: StreamKind = TICKS.live): StreamFrame[] {
    return this.streams.range(stream, after, before, limit);
  }

  /** Subscriptions across every hub. */
  viewers(): number {
    return this.streams.viewers();
  }

  // ---------------------------------------------------------------- prices

  /**
   * One feed round for this symbol, from its scheduler: a quote, a fault, or nothing (the
   * budget skipped it). Keeps the last good price and re-sends it marked stale once it is.
   * The tick is stored before this answers (the output gate); its frame goes back with the
   * hubs holding the symbol, for the scheduler to deliver with the rest of the round.
   */
  async ingest(result: QuoteResult | undefined, updateIntervalMs = 0): Promise<Ingested> {
    this.releaseDelayed();
    if (!this.streams.active()) {
      this.registration.dropped();
      return { active: false };
    }
    this.freshness.expectUpdatesEvery(updateIntervalMs);
    const now = Date.now();
    const quote = result && "quote" in result && this.ticks.takes(result.quote, now) ? result.quote : undefined;
    let frame = quote && this.commit(quote, now);
    frame = this.ticks.staleAgain(now) ?? frame;
    this.releaseDelayed();
    const tick = this.ticks.latest;
    return frame
      ? { active: true, tick, frame, hubs: this.streams.holders(TICKS.live).names() }
      : { active: true, tick };
  }

  /**
   * Applies published quotes in order: numbered, persisted and sent. As for a feed, a trade
   * older than the newest of the same source never moves the price back: it only goes into
   * its bar, by its own time.
   */
  async publishQuotes(quotes: Quote[]): Promise<Tick[]> {
    this.freshness.publishedAt = Date.now();
    void this.ctx.storage.put("publishedAt", this.freshness.publishedAt);
    return quotes.map((q) => {
      const now = Date.now();
      if (this.ticks.behind(q)) this.bars.fold({ ts: Math.min(q.ts!, now), price: q.price }, now, false);
      else this.streams.send(TICKS.live, this.commit(q, now));
      return this.ticks.latest!;
    });
  }

  /**
   * The latest tick, fetching the symbol's first one (through the request budget) if it
   * never ticked; with `delayMs`, the newest tick that arrived at least that long ago, marked delayed.
   */
  async latestTick(delayMs = 0): Promise<{ tick: Tick | DelayedTick } | Unavailable> {
    const frame = await this.ensureLatest();
    if (isUnavailable(frame)) return frame;
    if (delayMs === 0) return { tick: this.ticks.latest! };
    const [tick] = this.delayed.newest(1);
    return tick ? { tick } : notYetReleased(this.symbol, delayMs);
  }

  /** The latest tick if there is one; never asks the feed (the scheduler continues simulated paths from it). */
  latestKnown(): Tick | undefined {
    return this.ticks.latest;
  }

  /**
   * The last `limit` ticks, oldest first (charts fill from this before the first live
   * tick); with `delayMs`, the last `limit` that arrived at least that long ago, marked delayed.
   */
  async history(limit: number, delayMs = 0): Promise<{ ticks: Array<Tick | DelayedTick> } | Unavailable> {
    const frame = await this.ensureLatest();
    if (isUnavailable(frame)) return frame;
    if (delayMs > 0) return { ticks: this.delayed.newest(limit).reverse() };
    const ticks = this.ticks.history.latest(limit).reverse();
    // Ticks from before history was kept: at least the latest one.
    return { ticks: ticks.length > 0 ? ticks : [this.ticks.latest!] };
  }

  /**
   * Bars of `interval` starting in `[from, end)` (bar edges: see `barSpan`), the newest
   * `limit`, oldest first; with `delayMs`, only bars that ended at least that long ago (the
   * forming bar is live only).
   */
  async barsRange(
    interval: Interval,
    from: number,
    end: number,
    limit: number,
    delayMs = 0,
  ): Promise<BarRead | Unavailable> {
    const frame = await this.ensureLatest();
    if (isUnavailable(frame)) return frame;
    const now = Date.now();
    return this.bars.read(interval, from, end, limit, now, now - delayMs);
  }

  /** Stream position and fan-out, for /healthz and tests. */
  status() {
    return {
      symbol: this.symbol,
      epoch: this.ticks.epoch,
      seq: this.ticks.latest?.seq ?? 0,
      viewers: this.viewers(),
      hubs: this.streams.holders(TICKS.live).size,
      tree: treeShape(this.streams.holders(TICKS.live).tree),
      delayed: { hubs: this.streams.holders(TICKS.delayed).size, seq: this.delayed.releasedSeq },
    };
  }

  /** Test hook (TEST_HOOKS only): drop this instance as an eviction would; storage stays. */
  evict(): void {
    this.ctx.abort("evicted by test hook");
  }

  // ---------------------------------------------------------------- internals

  private held(kind: StreamKind): boolean {
    return this.streams.holders(kind).size > 0;
  }

  private hold(kind: StreamKind, hub: string, count: number): void {
    if (this.streams.hold(kind, hub, count)) this.viewerCounts.changed();
  }

  private ensureLatest(): Promise<StreamFrame | Unavailable> {
    if (this.ticks.latestFrame) return Promise.resolve(this.ticks.latestFrame);
    // The first quote of a cold symbol goes through the scheduler's request budget too.
    this.firstQuote ??= schedulerFor(this.env, this.symbol, this.config.schedulerShards)
      .firstQuote(this.symbol)
      .then((result) => {
        if (isUnavailable(result)) return result;
        if (!this.ticks.latestFrame) {
          this.bars.first(result.quote, (q) => this.streams.send(TICKS.live, this.commit(q, Date.now())));
        }
        return this.ticks.latestFrame!;
      })
      .finally(() => {
        this.firstQuote = undefined;
      });
    return this.firstQuote;
  }

  /** Numbers a quote into the next tick, stores it, folds it into its bar, and returns its frame. */
  private commit(quote: Quote, now: number): StreamFrame {
    const frame = this.ticks.commit(quote, now);
    this.releaseDelayed();
    this.bars.fold(this.ticks.latest!, now);
    return frame;
  }

  private releaseDelayed(): void {
    if (this.config.auth.publicDelayMs > 0 && this.held(TICKS.delayed) && this.ticks.latest) this.delayed.release();
  }
}
