import { DurableObject } from "cloudflare:workers";
import { type Refusal, refusalOf } from "../broker/refusal";
import type { StreamFrame } from "../broker/stream-frame";
import { BARS, STREAMS, type StreamKind, TICKS, VIEWERS } from "../broker/streams";
import { type Config, readConfig } from "../config";
import type { Env } from "../env";
import { streamsPrices } from "../feeds";
import type { QuoteResult } from "../feeds/provider";
import { isUnavailable, type Unavailable } from "../feeds/unavailable";
import { log } from "../log";
import type { Interval } from "../market/bars";
import type { DelayedTick } from "../market/delay";
import type { Quote, Tick } from "../market/tick";
import { deliverVia } from "./deliver";
import type { Ingested } from "./round";
import type { BarRead } from "./source/bars";
import { DelayedStream, delayedBehaviour, notYetReleased } from "./source/delayed-stream";
import { FirstPrice } from "./source/first-price";
import { Freshness } from "./source/freshness";
import { TickHistory } from "./source/history";
import { noRoom, Registration } from "./source/registration";
import { Retention } from "./source/retention";
import { restoreSource } from "./source/stored";
import { SourceStreams } from "./source/streams";
import { barStreamBehaviour, SymbolBars } from "./source/symbol-bars";
import { SymbolTicks } from "./source/symbol-ticks";
import { ViewerCounts } from "./source/viewer-counts";
import { schedulerFor } from "./stubs";

/**
 * One object per symbol, the only owner of its streams: it numbers each price (`seq`, within an
 * `epoch`), stores it and sends it on. Prices come from its feed-scheduler shard (rounds, or the
 * upstream stream's windows) or from publishers. It wires the parts in `source/`: the ticker
 * stream, one `SourceStreams` entry per row of broker/streams.ts, the delayed stream, viewer
 * counts, the bars, the first price, registration and retention. Every accepted tick is folded into the bars.
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
  /** A cold symbol's first price: the REST quote or the first streamed tick (FEED_TRANSPORT), whichever comes first. */
  private readonly firstPrice = new FirstPrice<StreamFrame>();
  private readonly streamed: boolean;
  /** Deletes the stored state once nobody used the symbol for SYMBOL_RETENTION_MS (the alarm). */
  private readonly retention: Retention;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    const name = ctx.id.name;
    if (!name) throw new Error("SymbolSource must be addressed by name (idFromName(symbol))");
    this.symbol = name;
    this.freshness = new Freshness(this.config, 0, Date.now());
    this.streamed = streamsPrices(this.config);
    this.registration = new Registration(name, () => this.scheduler());
    this.retention = new Retention(this.config.symbolRetentionMs, (at) => void ctx.storage.setAlarm(at));
    const { sql } = ctx.storage;
    const delayMs = this.config.auth.publicDelayMs;
    this.ticks = new SymbolTicks(new TickHistory(sql, this.config.historySize, delayMs), this.freshness);
    const history = this.ticks.history;
    this.delayed = new DelayedStream(
      history,
      delayMs,
      () => this.ticks.epoch,
      (frame) => this.streams.send(TICKS.delayed, frame),
    );
    const bars = () => this.bars.watch(this.streams.held(BARS.live), this.streams.held(BARS.delayed));
    const viewersChanged = () => this.viewerCounts.changed();
    this.streams = new SourceStreams(sql, name, this.config.fanoutDegree, deliverVia(env), viewersChanged, {
      [TICKS.live]: this.ticks,
      [TICKS.delayed]: delayedBehaviour(this.delayed, history, () => this.releaseDelayed()),
      [VIEWERS]: { snapshot: () => this.viewerCounts.frame, range: () => [] },
      [BARS.live]: barStreamBehaviour(() => this.bars, false, bars),
      [BARS.delayed]: barStreamBehaviour(() => this.bars, true, bars),
    });
    this.viewerCounts = new ViewerCounts(
      name,
      () => this.streams.viewers(),
      (frame) => this.streams.send(VIEWERS, frame),
    );
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await restoreSource(ctx.storage, history.newest());
      this.ticks.restore(stored.latest, stored.epoch);
      this.freshness.publishedAt = stored.publishedAt;
      this.bars = new SymbolBars(sql, name, this.config, {
        epoch: () => this.ticks.epoch,
        latest: () => this.ticks.latest,
        sendLive: (frame) => this.streams.send(BARS.live, frame),
        sendDelayed: (frame) => this.streams.send(BARS.delayed, frame),
        minuteBars: (from, to) => this.scheduler().minuteBars(name, from, to),
        storeGaps: (gaps) => ctx.storage.put("barGaps", gaps),
        gaps: stored.barGaps,
      });
      bars();
    });
  }

  // ---------------------------------------------------------------- hubs

  /** A hub holds `count` of one of this symbol's streams: its snapshot (if any), or a typed refusal. `by`: who brought it in. */
  async attach(
    hub: string,
    count: number,
    stream: StreamKind = TICKS.live,
    by?: string,
  ): Promise<StreamFrame | StreamFrame[] | undefined | Refusal> {
    this.retention.used();
    const activates = STREAMS[stream].activates;
    // Polled: no price, no subscription (the hub turns the refusal into an ERROR). Streamed: held
    // and registered first, so the symbol is subscribed upstream at once.
    const unpriced = activates && !this.streamed ? await this.priced(() => undefined) : undefined;
    if (unpriced) return refusalOf(unpriced);
    const full = await this.registration.hold(this.streams, stream, hub, Math.max(1, count), by);
    if (full) return noRoom(full, this.config);
    // No room in the budget for its REST quote now: the subscription stands (its first trade, or the next poll, brings it).
    const frame = activates && this.streamed ? await this.ensureLatest(0) : undefined;
    if (frame && isUnavailable(frame) && frame.unavailable !== "busy") {
      await this.registration.hold(this.streams, stream, hub, 0);
      return refusalOf(frame);
    }
    return this.streams.snapshot(stream);
  }

  /** A hub's subscription count of one of this symbol's streams changed (0: it holds none any more). */
  async interest(hub: string, count: number, stream: StreamKind = TICKS.live): Promise<void> {
    this.retention.used();
    this.streams.hold(stream, hub, count);
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
    this.retention.used();
    this.releaseDelayed();
    if (!this.streams.active()) {
      this.registration.dropped();
      return { active: false };
    }
    this.freshness.expectUpdatesEvery(updateIntervalMs);
    const now = Date.now();
    const quote = result && "quote" in result ? result.quote : undefined;
    const frame = this.ticks.fromFeed(quote, now, (q) => this.commit(q, now));
    this.releaseDelayed();
    const tick = this.ticks.latest;
    return frame
      ? { active: true, tick, frame, hubs: this.streams.holders(TICKS.live).names() }
      : { active: true, tick };
  }

  /** Applies published quotes in order: numbered, persisted, sent (an older trade of its source only goes into its bar). */
  async publishQuotes(quotes: Quote[]): Promise<Tick[]> {
    this.retention.used();
    await this.registration.published();
    this.freshness.publishedAt = Date.now();
    void this.ctx.storage.put("publishedAt", this.freshness.publishedAt);
    return quotes.map((q) => {
      const now = Date.now();
      if (!this.ticks.behind(q)) this.streams.send(TICKS.live, this.commit(q, now));
      else this.bars.fold({ ts: Math.min(q.ts!, now), price: q.price, size: q.size }, now, false);
      return this.ticks.latest!;
    });
  }

  /**
   * The latest tick, fetching the symbol's first one (through the request budget) if it
   * never ticked; with `delayMs`, the newest tick that arrived at least that long ago, marked delayed.
   */
  latestTick(delayMs = 0): Promise<{ tick: Tick | DelayedTick } | Unavailable> {
    return this.priced(() => {
      if (delayMs === 0) return { tick: this.ticks.latest! };
      const [tick] = this.delayed.newest(1);
      return tick ? { tick } : notYetReleased(this.symbol, delayMs);
    });
  }

  /** The latest tick if there is one; never asks the feed (the scheduler continues simulated paths from it). */
  latestKnown(): Tick | undefined {
    return this.ticks.latest;
  }

  /**
   * The last `limit` ticks, oldest first (charts fill from this before the first live
   * tick); with `delayMs`, the last `limit` that arrived at least that long ago, marked delayed.
   */
  history(limit: number, delayMs = 0): Promise<{ ticks: Array<Tick | DelayedTick> } | Unavailable> {
    return this.priced(() => ({
      ticks: delayMs > 0 ? this.delayed.newest(limit).reverse() : this.ticks.recent(limit),
    }));
  }

  /** Bars of `interval` in `[from, end)` (bar edges), the newest `limit`; with `delayMs`, those ended that long ago. */
  async barsRange(
    interval: Interval,
    from: number,
    end: number,
    limit: number,
    delayMs = 0,
  ): Promise<BarRead | Unavailable> {
    const now = Date.now();
    return this.priced(() => this.bars.read(interval, from, end, limit, now, now - delayMs));
  }

  /** Stream position and fan-out, for /healthz and tests. */
  status() {
    const { symbol, ticks, streams, delayed } = this;
    const position = { symbol, epoch: ticks.epoch, seq: ticks.latest?.seq ?? 0, viewers: this.viewers() };
    const delayedFanout = { hubs: streams.fanout(TICKS.delayed).hubs, seq: delayed.releasedSeq };
    return { ...position, ...streams.fanout(TICKS.live), delayed: delayedFanout };
  }

  /** Test hook (TEST_HOOKS only): drop this instance as an eviction would; storage stays. */
  evict(): void {
    this.ctx.abort("evicted by test hook");
  }

  /** Retention: nobody used the symbol for SYMBOL_RETENTION_MS and no hub holds it: its stored state goes. */
  override async alarm(): Promise<void> {
    const due = this.retention.due(Date.now(), this.streams.active());
    if ("rearmAt" in due) return this.ctx.storage.setAlarm(due.rearmAt);
    await this.retire("retention");
  }

  /** Deletes the stored state: unused (retention), or admitted on trust and then refused by the provider (`unknown`). */
  async retire(why: "retention" | "unknown"): Promise<void> {
    await this.registration.retired();
    await this.ctx.storage.deleteAll();
    log("symbol_state_deleted", { symbol: this.symbol, why, idleMs: this.config.symbolRetentionMs });
    // This instance's tables are gone with the rest: the next use starts a fresh one.
    setTimeout(() => this.ctx.abort("state deleted"), 0);
  }

  private scheduler() {
    return schedulerFor(this.env, this.symbol, this.config.schedulerShards);
  }

  /** `then()` once the symbol has a price (its first is fetched if it never ticked), or why it has none. */
  private async priced<T>(then: () => T): Promise<T | Unavailable> {
    const frame = await this.ensureLatest();
    return isUnavailable(frame) ? frame : then();
  }

  /** The latest frame, or a cold symbol's first (waiting up to `budgetWaitMs` for the REST budget; a streamed tick may beat it). */
  private ensureLatest(budgetWaitMs?: number): Promise<StreamFrame | Unavailable> {
    this.retention.used();
    const latest = this.ticks.latestFrame;
    return latest ? Promise.resolve(latest) : this.firstPrice.wait(() => this.firstQuote(budgetWaitMs));
  }

  /** A cold symbol's REST quote: its first price with its history, or (a streamed tick came first) the day's figures it brings. */
  private async firstQuote(budgetWaitMs: number | undefined): Promise<StreamFrame | Unavailable> {
    const result = await this.scheduler().firstQuote(this.symbol, budgetWaitMs);
    if (isUnavailable(result)) return this.ticks.latestFrame ?? result;
    const send = (q: Quote) => this.streams.send(TICKS.live, this.commit(q, Date.now()));
    if (!this.ticks.latestFrame) this.bars.first(result.quote, send);
    else this.bars.firstAfterStream(this.ticks.inOrder(result.quote), send);
    return this.ticks.latestFrame!;
  }

  /** Numbers a quote into the next tick, stores it, folds it into its bar, and returns its frame. */
  private commit(quote: Quote, now: number): StreamFrame {
    const frame = this.ticks.commit(quote, now);
    this.releaseDelayed();
    this.bars.fold(this.ticks.latest!, now);
    this.firstPrice.arrived(frame);
    return frame;
  }

  private releaseDelayed(): void {
    if (this.config.auth.publicDelayMs > 0 && this.streams.held(TICKS.delayed) && this.ticks.latest)
      this.delayed.release();
  }
}
