import { DurableObject } from "cloudflare:workers";
import { type Refusal, refusalOf } from "../broker/refusal";
import { buildTickFrame, type StreamFrame } from "../broker/stream-frame";
import { type Config, readConfig } from "../config";
import type { Env } from "../env";
import { FanOut } from "../fanout/fan-out";
import { Holders, sqlHolderStore } from "../fanout/holders";
import { treeShape } from "../fanout/tree";
import type { QuoteResult } from "../feeds/provider";
import { simulatedBars } from "../feeds/sim-history";
import { isUnavailable, type Unavailable } from "../feeds/unavailable";
import { log } from "../log";
import { type Bar, dayFigures, type Interval } from "../market/bars";
import type { DelayedTick } from "../market/delay";
import { recentSessions, sessionAt } from "../market/sessions";
import type { StreamKind } from "../market/symbol";
import { isOutOfOrder, nextTick, type Quote, type Tick } from "../market/tick";
import { deliverVia } from "./fanout";
import type { Ingested } from "./round";
import { BarStream } from "./source/bar-stream";
import { type BarRead, SourceBars } from "./source/bars";
import { DelayedStream } from "./source/delayed-stream";
import { Freshness } from "./source/freshness";
import { TickHistory } from "./source/history";
import { noRoom, Registration } from "./source/registration";
import { Retention } from "./source/retention";
import { ViewerCounts } from "./source/viewer-counts";
import { schedulerFor } from "./stubs";

/** At most this many ticks answer one range request (gap filling, resuming). */
const MAX_RANGE = 10_000;

/**
 * One object per symbol, the only owner of its stream: it numbers each price (`seq`,
 * within an `epoch` made once, when the stored state is created), stores it, and sends it
 * on. Prices come from its feed-scheduler shard (within the request budget) or from
 * publishers. It coordinates small parts: the tick history, the hubs holding each of its
 * streams (live, delayed, viewer counts) with a fan-out for each, the delayed stream's
 * releases and the viewer count's reports. A published tick leaves through the live
 * fan-out; a feed round's tick goes back to the scheduler, which sends the whole round to
 * each hub at once. Every tick it accepts, either way, is also folded into its one-minute
 * bars, whose paced updates leave through the bar streams' own fan-outs. It is registered
 * with the scheduler while any hub holds its ticks or bars.
 */
export class SymbolSource extends DurableObject<Env> {
  private readonly config: Config;
  private readonly symbol: string;
  private readonly ticks: TickHistory;
  /** One-minute bars and their streams, made once the stored state is read. */
  private bars!: SourceBars;
  private barStream!: BarStream;
  private readonly barHolders: Holders;
  private readonly delayedBarHolders: Holders;
  private readonly live: Holders;
  private readonly delayedHolders: Holders;
  /** Hubs with `/topic/viewers.{SYMBOL}` subscribers. */
  private readonly watchers: Holders;
  private readonly liveOut: FanOut;
  private readonly delayedOut: FanOut;
  private readonly delayed: DelayedStream;
  private readonly viewerCounts: ViewerCounts;
  private latest: Tick | undefined;
  private latestFrame: StreamFrame | undefined;
  private epoch = "";
  private readonly freshness: Freshness;
  private readonly registration: Registration;
  private firstQuote: Promise<StreamFrame | Unavailable> | undefined;
  /** Why the backfilled history covers less than BAR_DAYS, if it does. */
  private barsPartial: string | undefined;
  /** A source that had prices before it kept bars is backfilled once per instance, when its bars are first asked for. */
  private barsChecked = false;
  /** Deletes the stored state once nobody used the symbol for SYMBOL_RETENTION_MS (the alarm). */
  private readonly retention: Retention;
  /** Whether this instance told the scheduler a publisher made the symbol real. */
  private remembered = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    const name = ctx.id.name;
    if (!name) throw new Error("SymbolSource must be addressed by name (idFromName(symbol))");
    this.symbol = name;
    this.freshness = new Freshness(this.config, 0, Date.now());
    this.registration = new Registration(name, () => schedulerFor(env, name, this.config.schedulerShards));
    this.retention = new Retention(this.config.symbolRetentionMs);
    const { sql } = ctx.storage;
    const delayMs = this.config.auth.publicDelayMs;
    this.ticks = new TickHistory(sql, this.config.historySize, delayMs);
    const holders = (table: string, stream: StreamKind) =>
      new Holders(sqlHolderStore(sql, table), name, this.config.fanoutDegree, (shape) =>
        log("fanout_tree", { symbol: name, ...(stream === "ticker" ? {} : { stream }), ...shape }),
      );
    this.live = holders("holders", "ticker");
    this.delayedHolders = holders("delayed_holders", "delayed");
    this.watchers = holders("watchers", "viewers");
    this.barHolders = holders("bar_holders", "bars");
    this.delayedBarHolders = holders("delayed_bar_holders", "delayed-bars");
    const deliver = deliverVia(env);
    const barsOut = new FanOut(deliver);
    const delayedBarsOut = new FanOut(deliver);
    this.liveOut = new FanOut(deliver);
    this.delayedOut = new FanOut(deliver);
    const viewersOut = new FanOut(deliver);
    this.delayed = new DelayedStream(
      this.ticks,
      delayMs,
      () => this.epoch,
      (frame) => this.delayedOut.send(this.delayedHolders.tree, frame),
    );
    this.viewerCounts = new ViewerCounts(
      name,
      () => this.viewers(),
      (frame) => viewersOut.send(this.watchers.tree, frame),
    );
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<unknown>(["tick", "epoch", "publishedAt", "barsPartial"]);
      this.barsPartial = stored.get("barsPartial") as string | undefined;
      // "tick" is where older versions kept the latest tick.
      this.latest = this.ticks.newest() ?? (stored.get("tick") as Tick | undefined);
      this.freshness.publishedAt = (stored.get("publishedAt") as number | undefined) ?? 0;
      this.epoch = (stored.get("epoch") as string | undefined) ?? "";
      if (!this.epoch) {
        // A new stream (or its state was lost): positions from another epoch do not apply.
        this.epoch = crypto.randomUUID().slice(0, 8);
        await ctx.storage.put("epoch", this.epoch);
      }
      if (this.latest) this.latestFrame = buildTickFrame(this.latest, this.epoch);
      this.bars = new SourceBars(sql, name, this.config.barDays, this.latest);
      this.barStream = new BarStream(sql, name, delayMs, {
        epoch: () => this.epoch,
        closeDue: (now) => this.bars.closeDue(now),
        forming: (now) => this.bars.forming(now),
        sendLive: (frame) => barsOut.send(this.barHolders.tree, frame),
        sendDelayed: (frame) => delayedBarsOut.send(this.delayedBarHolders.tree, frame),
      });
      this.barStream.watch(this.barHolders.size > 0, this.delayedBarHolders.size > 0);
    });
  }

  // ---------------------------------------------------------------- hubs

  /**
   * A hub holds `count` subscriptions of one of this symbol's streams; returns its latest
   * frame (the snapshot), or nothing while no tick is old enough for the delayed stream, or
   * why not (a typed refusal, never a thrown error). `by`: whom bringing the symbol in is charged to.
   */
  async attach(
    hub: string,
    count: number,
    stream: StreamKind = "ticker",
    by?: string,
  ): Promise<StreamFrame | StreamFrame[] | undefined | Refusal> {
    this.touch();
    if (stream === "viewers") {
      this.watchers.set(hub, Math.max(1, count));
      return this.viewerCounts.frame;
    }
    const frame = await this.ensureLatest();
    // No price, no subscription: the hub turns this into an ERROR for its subscriber.
    if (isUnavailable(frame)) return refusalOf(frame);
    const holders = this.holdersOf(stream);
    this.setHolder(holders, hub, Math.max(1, count));
    const activation = await this.registration.follow(this.active(), by);
    if (activation !== "ok") {
      this.setHolder(holders, hub, 0);
      return noRoom(activation, this.config);
    }
    if (holders === this.live) return frame;
    if (holders === this.barHolders || holders === this.delayedBarHolders) this.backfillOnce();
    if (holders === this.barHolders) return this.barStream.snapshot();
    if (holders === this.delayedBarHolders) return this.barStream.delayedSnapshot();
    this.releaseDelayed();
    return this.delayed.snapshot;
  }

  /** A hub's subscription count of one of this symbol's streams changed (0: it holds none any more). */
  async interest(hub: string, count: number, stream: StreamKind = "ticker"): Promise<void> {
    this.touch();
    if (stream === "viewers") {
      this.watchers.set(hub, count);
      return;
    }
    this.setHolder(this.holdersOf(stream), hub, count);
    await this.registration.follow(this.active());
  }

  /**
   * Frames with `after < seq < before`, oldest first, at most `limit`: a hub fills a gap, or
   * a client resumes. The delayed stream's stop at the first tick not yet old enough.
   */
  range(after: number, before: number, limit = MAX_RANGE, stream: StreamKind = "ticker"): StreamFrame[] {
    if (stream === "bars") return this.barStream.range(after, before, Math.min(limit, MAX_RANGE));
    if (stream === "delayed-bars") return this.barStream.delayedRange(after, before, Math.min(limit, MAX_RANGE));
    const rows = this.ticks.between(after, before, Math.min(limit, MAX_RANGE));
    return stream === "delayed" ? this.delayed.framesOf(rows) : rows.map((r) => buildTickFrame(r.tick, this.epoch));
  }

  /** Subscriptions across every hub. */
  viewers(): number {
    return this.live.total() + this.delayedHolders.total();
  }

  // ---------------------------------------------------------------- prices

  /**
   * One feed round for this symbol, from its scheduler: a quote, a fault, or nothing (the
   * budget skipped it). Keeps the last good price and re-sends it marked stale once it is.
   * The tick is stored before this answers (the output gate); its frame goes back with the
   * hubs holding the symbol, for the scheduler to deliver with the rest of the round.
   */
  async ingest(result: QuoteResult | undefined, updateIntervalMs = 0): Promise<Ingested> {
    this.touch();
    this.releaseDelayed();
    if (!this.active()) {
      this.registration.dropped();
      return { active: false };
    }
    this.freshness.expectUpdatesEvery(updateIntervalMs);
    const now = Date.now();
    let frame: StreamFrame | undefined;
    if (result && "quote" in result && !isOutOfOrder(this.latest, result.quote) && this.freshness.takeFeedQuote(now))
      frame = this.commit(result.quote);
    const latest = this.latest;
    if (latest && !latest.stale && this.freshness.isStale(now)) {
      // Never a made-up price: the last good one again, flagged.
      frame = this.record({ ...latest, seq: latest.seq + 1, stale: true });
    }
    return frame
      ? { active: true, tick: this.latest, frame, hubs: this.live.names() }
      : { active: true, tick: this.latest };
  }

  /** Applies published quotes in order: numbered, persisted and sent. */
  async publishQuotes(quotes: Quote[]): Promise<Tick[]> {
    this.touch();
    // A publisher made the symbol real: its scheduler shard says so to every gate from now on.
    if (!this.remembered) {
      await schedulerFor(this.env, this.symbol, this.config.schedulerShards).remember(this.symbol);
      this.remembered = true;
    }
    this.freshness.publishedAt = Date.now();
    void this.ctx.storage.put("publishedAt", this.freshness.publishedAt);
    return quotes.map((q) => {
      this.liveOut.send(this.live.tree, this.commit(q));
      return this.latest!;
    });
  }

  /**
   * The latest tick, fetching the symbol's first one (through the request budget) if it
   * never ticked; with `delayMs`, the newest tick that arrived at least that long ago, marked delayed.
   */
  async latestTick(delayMs = 0): Promise<{ tick: Tick | DelayedTick } | Unavailable> {
    const frame = await this.ensureLatest();
    if (isUnavailable(frame)) return frame;
    if (delayMs === 0) return { tick: this.latest! };
    const [tick] = this.delayed.newest(1);
    return tick ? { tick } : notYetReleased(this.symbol, delayMs);
  }

  /** The latest tick if there is one; never asks the feed (the scheduler continues simulated paths from it). */
  latestKnown(): Tick | undefined {
    return this.latest;
  }

  /**
   * The last `limit` ticks, oldest first (charts fill from this before the first live
   * tick); with `delayMs`, the last `limit` that arrived at least that long ago, marked delayed.
   */
  async history(limit: number, delayMs = 0): Promise<{ ticks: Array<Tick | DelayedTick> } | Unavailable> {
    const frame = await this.ensureLatest();
    if (isUnavailable(frame)) return frame;
    if (delayMs > 0) return { ticks: this.delayed.newest(limit).reverse() };
    const ticks = this.ticks.latest(limit).reverse();
    // Ticks from before history was kept: at least the latest one.
    return { ticks: ticks.length > 0 ? ticks : [this.latest!] };
  }

  /**
   * Bars of `interval` starting in `[from, to)`, the newest `limit`, oldest first; with
   * `delayMs`, only bars that ended at least that long ago (the forming bar is live only).
   */
  async barsRange(
    interval: Interval,
    from: number,
    to: number,
    limit: number,
    delayMs = 0,
  ): Promise<BarRead | Unavailable> {
    const frame = await this.ensureLatest();
    if (isUnavailable(frame)) return frame;
    this.backfillOnce();
    const now = Date.now();
    const read = this.bars.read(interval, from, to, limit, now, now - delayMs);
    return this.barsPartial ? { ...read, partial: this.barsPartial } : read;
  }

  /** Stream position and fan-out, for /healthz and tests. */
  status() {
    return {
      symbol: this.symbol,
      epoch: this.epoch,
      seq: this.latest?.seq ?? 0,
      viewers: this.viewers(),
      hubs: this.live.size,
      tree: treeShape(this.live.tree),
      delayed: { hubs: this.delayedHolders.size, seq: this.delayed.releasedSeq },
    };
  }

  /** Test hook (TEST_HOOKS only): drop this instance as an eviction would; storage stays. */
  evict(): void {
    this.ctx.abort("evicted by test hook");
  }

  /** Retention: nobody used the symbol for SYMBOL_RETENTION_MS and no hub holds it: its stored state goes. */
  override async alarm(): Promise<void> {
    const due = this.retention.due(Date.now(), this.active());
    if ("rearmAt" in due) return this.ctx.storage.setAlarm(due.rearmAt);
    // Unknown again first (gates ask the shard, which no longer says yes), then nothing stays.
    await schedulerFor(this.env, this.symbol, this.config.schedulerShards).forget(this.symbol);
    await this.ctx.storage.deleteAll();
    log("symbol_state_deleted", { symbol: this.symbol, idleMs: this.config.symbolRetentionMs });
    // This instance's tables are gone with the rest: the next use starts a fresh one.
    setTimeout(() => this.ctx.abort("state deleted"), 0);
  }

  // ---------------------------------------------------------------- internals

  /** A use: pushes the retention alarm out (a storage write at most once per 1/30 of the period). */
  private touch(): void {
    const at = this.retention.used(Date.now());
    if (at !== undefined) void this.ctx.storage.setAlarm(at);
  }

  private active(): boolean {
    return (
      this.live.size > 0 || this.delayedHolders.size > 0 || this.barHolders.size > 0 || this.delayedBarHolders.size > 0
    );
  }

  private holdersOf(stream: StreamKind): Holders {
    if (stream === "bars") return this.barHolders;
    if (stream === "delayed-bars") return this.delayedBarHolders;
    return stream === "delayed" ? this.delayedHolders : this.live;
  }

  private setHolder(holders: Holders, hub: string, count: number): void {
    if (holders.set(hub, count)) this.viewerCounts.changed();
    if (holders === this.delayedHolders && holders.size === 0) this.delayed.stop();
    if (holders === this.barHolders || holders === this.delayedBarHolders)
      this.barStream.watch(this.barHolders.size > 0, this.delayedBarHolders.size > 0);
  }

  private ensureLatest(): Promise<StreamFrame | Unavailable> {
    this.touch();
    if (this.latestFrame) return Promise.resolve(this.latestFrame);
    // The first quote of a cold symbol goes through the scheduler's request budget too.
    this.firstQuote ??= schedulerFor(this.env, this.symbol, this.config.schedulerShards)
      .firstQuote(this.symbol)
      .then((result) => {
        if (isUnavailable(result)) return result;
        if (!this.latestFrame) {
          const history = this.bars.isEmpty();
          this.barsChecked = true;
          this.liveOut.send(this.live.tree, this.commit(this.backfill(result.quote)));
          if (history && this.config.feedProvider !== "sim") void this.providerBackfill();
        }
        return this.latestFrame!;
      })
      .finally(() => (this.firstQuote = undefined));
    return this.firstQuote;
  }

  /**
   * A symbol's first quote, with its history when it has none: the simulator draws its
   * BAR_DAYS trading days at once, ending on this price so live ticks continue them; the
   * quote's day figures then come from those bars.
   */
  private backfill(quote: Quote): Quote {
    if (this.config.feedProvider !== "sim" || !this.bars.isEmpty()) return quote;
    const bars = this.simulatedHistory(quote.price);
    const day = bars.length > 0 ? dayFigures(this.symbol, bars) : undefined;
    return day ? { ...quote, ...day } : quote;
  }

  /** The simulator's BAR_DAYS trading days, drawn at once from its price function, ending on `price`. */
  private simulatedHistory(price: number): Bar[] {
    const now = Date.now();
    const bars = simulatedBars(
      this.symbol,
      this.config.simSeed,
      recentSessions(this.symbol, now, this.config.barDays),
      now,
      price,
    );
    if (bars.length === 0) return bars;
    this.bars.put(bars);
    this.barStream.seed(bars);
    log("bars_backfilled", { symbol: this.symbol, source: "sim", bars: bars.length });
    return bars;
  }

  /** A symbol with prices but no bars (it ticked before bars were kept): its history, once. */
  private backfillOnce(): void {
    if (this.barsChecked) return;
    this.barsChecked = true;
    const latest = this.latest;
    // Only the feed's own symbols: a publisher's prices have no history anywhere else.
    if (!latest || latest.source !== this.config.feedProvider || !this.bars.isEmpty()) return;
    if (this.config.feedProvider === "sim") this.simulatedHistory(latest.price);
    else void this.providerBackfill();
  }

  /**
   * A real provider's history, fetched after the first price (never delaying it): the
   * last BAR_DAYS trading days up to the first live bar, from its aggregates endpoint
   * within the request budget. Marked partial when the provider gave less.
   */
  private async providerBackfill(): Promise<void> {
    const firstLive = this.bars.newest()?.t ?? Math.floor(Date.now() / 60_000) * 60_000;
    const [oldest] = recentSessions(this.symbol, firstLive, this.config.barDays);
    if (!oldest || oldest.open >= firstLive) return;
    let partial: string | undefined;
    try {
      const result = await schedulerFor(this.env, this.symbol, this.config.schedulerShards).minuteBars(
        this.symbol,
        oldest.open,
        firstLive,
      );
      if ("fault" in result) {
        partial = `no history: ${result.fault.reason}`;
      } else {
        const bars = result.bars.filter((b) => b.t < firstLive && sessionAt(this.symbol, b.t));
        this.bars.put(bars);
        partial = result.partial;
        log("bars_backfilled", {
          symbol: this.symbol,
          source: this.config.feedProvider,
          bars: bars.length,
          ...(partial ? { partial } : {}),
        });
      }
    } catch (err) {
      partial = `no history: ${String(err)}`;
    }
    this.barsPartial = partial;
    if (partial) await this.ctx.storage.put("barsPartial", partial);
  }

  /** Numbers a quote into the next tick, stores it, folds it into its bar, and returns its frame. */
  private commit(quote: Quote): StreamFrame {
    const now = Date.now();
    // A price from the future would look newer than any that comes after it.
    const ts = Math.min(quote.ts ?? now, now);
    const frame = this.record({
      ...nextTick(this.latest, { ...quote, ts }, now),
      staleAfterMs: this.freshness.staleAfterMs(),
    });
    this.barStream.changed(this.bars.fold(this.latest!, now), now);
    return frame;
  }

  /**
   * Stores one tick (arrived now) and makes its frame. The output gate holds every delivery
   * until the write is durable, so a seq is never seen by a client and then lost.
   */
  private record(tick: Tick): StreamFrame {
    this.latest = tick;
    this.ticks.append(tick, Date.now());
    this.latestFrame = buildTickFrame(tick, this.epoch);
    this.releaseDelayed();
    return this.latestFrame;
  }

  private releaseDelayed(): void {
    if (this.config.auth.publicDelayMs > 0 && this.delayedHolders.size > 0 && this.latest) this.delayed.release();
  }
}

function notYetReleased(symbol: string, delayMs: number): Unavailable {
  return {
    unavailable: "busy",
    reason: `no price of ${symbol} is ${delayMs / 1000} s old yet (prices are delayed for the public)`,
    retryAfterMs: delayMs,
  };
}
