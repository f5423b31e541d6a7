import { DurableObject } from "cloudflare:workers";
import { nodeName, treeShape, type FanoutNode } from "../broker/fanout-tree";
import { DeliveryQueues } from "../broker/delivery-queue";
import { buildDelayedFrame, buildTickFrame, buildViewersFrame, type StreamFrame } from "../broker/stream-frame";
import { readConfig, type Config } from "../config";
import type { Env } from "../env";
import type { QuoteResult } from "../feeds/provider";
import { isUnavailable, type Unavailable } from "../feeds/unavailable";
import { isReleased, markDelayed, type DelayedTick } from "../market/delay";
import type { StreamKind } from "../market/symbol";
import { nextTick, type Quote, type Tick } from "../market/tick";
import { deliverTo } from "./fanout";
import { HolderTable } from "./holder-table";
import { schedulerFor } from "./stubs";

/** At most this many ticks answer one range request (gap filling, resuming). */
const MAX_RANGE = 10_000;
/** Viewer counts go out at most this often. */
const VIEWERS_EVERY_MS = 1_000;
/** The history ring is trimmed every this many ticks, not on every one (it may briefly hold this many more). */
const TRIM_EVERY = 32;
/** Ticks read from history per step of releasing the delayed stream. */
const RELEASE_BATCH = 256;
/** When a history row arrived here (rows stored before arrival times were kept: the tick's own time). */
const ARRIVED = "COALESCE(arrived, json_extract(tick, '$.ts'))";

/**
 * One object per symbol: the only owner of its stream. It keeps the symbol's `seq`,
 * its `epoch` (made once, when the stored state is created), the latest tick, the
 * history ring and the table of hubs holding subscribers with their subscription
 * counts. Prices come from its feed-scheduler shard (always within the request budget)
 * or from publishers. A published tick is sent once to each child of the symbol's fan-out
 * tree (hubs, or relays when there are more hubs than FANOUT_DEGREE), without waiting
 * for it; a feed round's tick goes back to the scheduler with the hubs that hold it,
 * and the scheduler sends each hub one delivery with every symbol of the round.
 * With PUBLIC_DELAY_MS, the same ticks also form the delayed stream for connections
 * without a real-time entitlement: built here from the history, each tick released once
 * when it is that old (one timer per source, none per subscriber), with its own holders
 * and tree. Hubs with `/topic/viewers.{SYMBOL}` subscribers ("watchers") get the total count
 * whenever it changes, at most once a second.
 */
export class SymbolSource extends DurableObject<Env> {
  private readonly config: Config;
  private readonly symbol: string;
  private latest: Tick | undefined;
  private latestFrame: StreamFrame | undefined;
  private epoch = "";
  /** Hubs holding live ticker subscribers. */
  private readonly live: HolderTable;
  /** Hubs holding delayed-stream subscribers. */
  private readonly delayed: HolderTable;
  /** Hubs with viewer-count subscribers, with how many. */
  private readonly watchers = new Map<string, number>();
  private readonly viewerQueues: DeliveryQueues<string, StreamFrame>;
  private viewersFrame: StreamFrame;
  /** The count in `viewersFrame`. */
  private reportedViewers: number;
  private viewersTimer: ReturnType<typeof setTimeout> | undefined;
  /** The expected time between feed updates, as the scheduler last said (budget-limited feeds poll slowly). */
  private updateIntervalMs: number;
  private readonly fanout: DeliveryQueues<FanoutNode, StreamFrame>;
  private readonly delayedFanout: DeliveryQueues<FanoutNode, StreamFrame>;
  /** The delayed stream: the last seq released (undefined until it starts) and its frame (the snapshot). */
  private releasedSeq: number | undefined;
  private releasedFrame: StreamFrame | undefined;
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;
  private firstQuote: Promise<StreamFrame | Unavailable> | undefined;
  /** While a feed round is being ingested: the frames it made, which the scheduler delivers. */
  private roundFrames: StreamFrame[] | undefined;
  private publishedAt = 0;
  /** When the feed last delivered a good quote (memory only: a woken object counts from now). */
  private freshAt = Date.now();
  private registered = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    const name = ctx.id.name;
    if (!name) throw new Error("SymbolSource must be addressed by name (idFromName(symbol))");
    this.symbol = name;
    this.updateIntervalMs = this.config.tickIntervalMs;
    const sql = ctx.storage.sql;
    this.live = new HolderTable(sql, "holders", name, "ticker", this.config.fanoutDegree);
    this.delayed = new HolderTable(sql, "delayed_holders", name, "delayed", this.config.fanoutDegree);
    this.fanout = new DeliveryQueues(nodeName, (node, frames) => this.send(this.live, node, frames));
    this.delayedFanout = new DeliveryQueues(nodeName, (node, frames) => this.send(this.delayed, node, frames));
    this.viewerQueues = new DeliveryQueues(
      (hub) => hub,
      (hub, frames) => this.sendViewers(hub, frames),
    );
    sql.exec("CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY, tick TEXT NOT NULL, arrived INTEGER)");
    // Stores made before arrival times were kept gain the column (their rows count from the tick's time).
    if (!sql.exec<{ name: string }>("PRAGMA table_info(history)").toArray().some((c) => c.name === "arrived")) {
      sql.exec("ALTER TABLE history ADD COLUMN arrived INTEGER");
    }
    sql.exec("CREATE TABLE IF NOT EXISTS watchers (name TEXT PRIMARY KEY, count INTEGER NOT NULL)");
    for (const row of sql.exec<{ name: string; count: number }>("SELECT name, count FROM watchers")) {
      this.watchers.set(row.name, row.count);
    }
    this.reportedViewers = this.viewers();
    this.viewersFrame = buildViewersFrame(this.symbol, this.reportedViewers, Date.now());
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<unknown>(["tick", "epoch", "publishedAt"]);
      // The newest row of the history is the latest tick ("tick" is where older versions kept it).
      const [row] = sql.exec<{ tick: string }>("SELECT tick FROM history ORDER BY seq DESC LIMIT 1").toArray();
      this.latest = row ? (JSON.parse(row.tick) as Tick) : (stored.get("tick") as Tick | undefined);
      this.publishedAt = (stored.get("publishedAt") as number | undefined) ?? 0;
      this.epoch = (stored.get("epoch") as string | undefined) ?? "";
      if (!this.epoch) {
        // A new stream (or its state was lost): positions from another epoch do not apply.
        this.epoch = crypto.randomUUID().slice(0, 8);
        await ctx.storage.put("epoch", this.epoch);
      }
      if (this.latest) this.latestFrame = buildTickFrame(this.latest, this.epoch);
    });
  }

  // ---------------------------------------------------------------- hubs

  /**
   * A hub holds `count` subscriptions of one of this symbol's streams; returns its latest
   * frame (the snapshot), or nothing while no tick is old enough for the delayed stream.
   */
  async attach(hub: string, count: number, stream: StreamKind = "ticker"): Promise<StreamFrame | undefined> {
    if (stream === "viewers") {
      this.setWatcher(hub, Math.max(1, count));
      return this.viewersFrame;
    }
    const frame = await this.ensureLatest();
    // No price, no subscription: the hub turns this into an ERROR for its subscriber.
    if (isUnavailable(frame)) throw new Error(frame.reason);
    const holders = this.holdersOf(stream);
    this.setHolder(holders, hub, Math.max(1, count));
    if (!(await this.syncRegistration())) {
      this.setHolder(holders, hub, 0);
      throw new Error(`too many symbols are being watched right now (MAX_ACTIVE_SYMBOLS=${this.config.maxActiveSymbols})`);
    }
    if (holders === this.live) return frame;
    this.releaseDelayed();
    return this.releasedFrame;
  }

  /** A hub's subscription count of one of this symbol's streams changed (0: it holds none any more). */
  async interest(hub: string, count: number, stream: StreamKind = "ticker"): Promise<void> {
    if (stream === "viewers") return this.setWatcher(hub, count);
    this.setHolder(this.holdersOf(stream), hub, count);
    await this.syncRegistration();
  }

  /**
   * Frames with `after < seq < before`, oldest first, at most `limit`: a hub fills a gap, or
   * a client resumes. The delayed stream's stop at the first tick not yet old enough.
   */
  range(after: number, before: number, limit = MAX_RANGE, stream: StreamKind = "ticker"): StreamFrame[] {
    const rows = this.ticksBetween(after, before, Math.min(limit, MAX_RANGE));
    if (stream !== "delayed") return rows.map((r) => buildTickFrame(r.tick, this.epoch));
    const delayMs = this.config.auth.publicDelayMs;
    const now = Date.now();
    const released = rows.findIndex((r) => !isReleased(r.arrived, delayMs, now));
    return rows.slice(0, released < 0 ? rows.length : released).map((r) => buildDelayedFrame(r.tick, this.epoch, delayMs));
  }

  /** Subscriptions across every hub. */
  viewers(): number {
    return this.live.total() + this.delayed.total();
  }

  // ---------------------------------------------------------------- prices

  /**
   * One feed round for this symbol, from its scheduler: a quote, a fault, or nothing
   * (the budget skipped it). Keeps the last good price and re-sends it marked stale once
   * no good quote came for STALE_AFTER_MS, or for two update intervals when the budget
   * spaces them further apart. The tick is stored before this answers (the output gate);
   * its frames come back with the hubs holding the symbol, for the scheduler to deliver.
   */
  async ingest(result: QuoteResult | undefined, updateIntervalMs = 0): Promise<Ingested> {
    this.releaseDelayed();
    if (!this.active()) {
      this.registered = false;
      return { active: false };
    }
    if (updateIntervalMs > 0) this.updateIntervalMs = updateIntervalMs;
    const now = Date.now();
    const frames: StreamFrame[] = [];
    // No await until it is reset: a publish cannot slip its frames into the round.
    this.roundFrames = frames;
    try {
      // Published ticks are authoritative: the feed stays quiet for the symbol while they flow.
      if (result && "quote" in result && now - this.publishedAt >= this.config.publishHoldMs) {
        this.commit(result.quote);
        this.freshAt = now;
      }
      const latest = this.latest;
      if (latest && !latest.stale && now - Math.max(this.freshAt, this.publishedAt) > this.staleAfterMs()) {
        // Never a made-up price: the last good one again, flagged.
        this.record({ ...latest, seq: latest.seq + 1, stale: true });
      }
    } finally {
      this.roundFrames = undefined;
    }
    if (frames.length === 0) return { active: true, tick: this.latest };
    return { active: true, tick: this.latest, frames, hubs: this.live.names(), version: this.live.version };
  }

  /** Hubs that answered a feed round's delivery holding no subscriber: forgotten unless they attached again since `version`. */
  async dropIdle(hubs: string[], version: number): Promise<void> {
    for (const hub of hubs) if (this.live.unchangedSince(hub, version)) this.setHolder(this.live, hub, 0);
    await this.syncRegistration();
  }

  /** Applies published quotes in order: numbered, persisted and sent. */
  async publishQuotes(quotes: Quote[]): Promise<Tick[]> {
    this.publishedAt = Date.now();
    void this.ctx.storage.put("publishedAt", this.publishedAt);
    return quotes.map((q) => this.commit(q));
  }

  /**
   * The latest tick, fetching the symbol's first one (through the request budget) if it
   * never ticked; with `delayMs`, the newest tick at least that old, marked delayed.
   */
  async latestTick(delayMs = 0): Promise<{ tick: Tick | DelayedTick } | Unavailable> {
    const frame = await this.ensureLatest();
    if (isUnavailable(frame)) return frame;
    if (delayMs === 0) return { tick: this.latest! };
    const [tick] = this.releasedTicks(delayMs, 1);
    return tick ? { tick } : notYetReleased(this.symbol, delayMs);
  }

  /** The latest tick if there is one; never asks the feed (the scheduler continues simulated paths from it). */
  latestKnown(): Tick | undefined {
    return this.latest;
  }

  /**
   * The last `limit` ticks, oldest first (charts fill from this before the first live
   * tick); with `delayMs`, the last `limit` at least that old, marked delayed.
   */
  async history(limit: number, delayMs = 0): Promise<{ ticks: Array<Tick | DelayedTick> } | Unavailable> {
    const frame = await this.ensureLatest();
    if (isUnavailable(frame)) return frame;
    if (delayMs > 0) return { ticks: this.releasedTicks(delayMs, limit).reverse() };
    const rows = this.ctx.storage.sql.exec<{ tick: string }>("SELECT tick FROM history ORDER BY seq DESC LIMIT ?", limit);
    const ticks = rows
      .toArray()
      .map((r) => JSON.parse(r.tick) as Tick)
      .reverse();
    // Ticks from before history was kept: at least the latest one.
    return { ticks: ticks.length > 0 ? ticks : [this.latest!] };
  }

  /** Stream position and fan-out, for /healthz and tests. */
  status(): {
    symbol: string;
    epoch: string;
    seq: number;
    viewers: number;
    hubs: number;
    tree: ReturnType<typeof treeShape>;
    delayed: { hubs: number; seq: number | null };
  } {
    return {
      symbol: this.symbol,
      epoch: this.epoch,
      seq: this.latest?.seq ?? 0,
      viewers: this.viewers(),
      hubs: this.live.size,
      tree: treeShape(this.live.tree),
      delayed: { hubs: this.delayed.size, seq: this.releasedSeq ?? null },
    };
  }

  /** Test hook (TEST_HOOKS only): drop this instance as an eviction would; storage stays. */
  evict(): void {
    this.ctx.abort("evicted by test hook");
  }

  // ---------------------------------------------------------------- internals

  private active(): boolean {
    return this.live.size > 0 || this.delayed.size > 0;
  }

  private holdersOf(stream: StreamKind): HolderTable {
    return stream === "delayed" ? this.delayed : this.live;
  }

  /**
   * Registers with the feed scheduler while any hub holds subscribers; leaves when none
   * does. False when the scheduler has no room for another active symbol.
   */
  private async syncRegistration(): Promise<boolean> {
    const active = this.active();
    if (active === this.registered) return true;
    const scheduler = schedulerFor(this.env, this.symbol, this.config.schedulerShards);
    if (active && !(await scheduler.activate(this.symbol))) return false;
    if (!active) await scheduler.deactivate(this.symbol);
    this.registered = active;
    return true;
  }

  private ensureLatest(): Promise<StreamFrame | Unavailable> {
    if (this.latestFrame) return Promise.resolve(this.latestFrame);
    // The first quote of a cold symbol goes through the scheduler's request budget too.
    this.firstQuote ??= schedulerFor(this.env, this.symbol, this.config.schedulerShards)
      .firstQuote(this.symbol)
      .then((result) => {
        if (isUnavailable(result)) return result;
        if (!this.latestFrame) this.commit(result.quote);
        return this.latestFrame!;
      })
      .finally(() => (this.firstQuote = undefined));
    return this.firstQuote;
  }

  private commit(quote: Quote): Tick {
    const now = Date.now();
    // A price from the future would hold back the delayed stream: no tick is newer than its arrival.
    const ts = Math.min(quote.ts ?? now, now);
    return this.record({ ...nextTick(this.latest, { ...quote, ts }, now), staleAfterMs: this.staleAfterMs() });
  }

  /**
   * How long without a new price before it counts as stale: STALE_AFTER_MS, or two
   * update intervals of a feed the budget makes poll slowly. Each tick carries it, so
   * the page, the widget and the server judge staleness alike.
   */
  private staleAfterMs(): number {
    return Math.round(Math.max(this.config.staleAfterMs, 2 * this.updateIntervalMs));
  }

  /** Numbers, persists and sends one tick (arrived now: the delayed stream counts from here). */
  private record(tick: Tick): Tick {
    this.latest = tick;
    // The history ring in SQLite is also where the latest tick is kept: one insert per tick
    // (a separate key cost another write per tick). The output gate holds every delivery
    // until the write is durable, so a seq is never seen by a client and then lost.
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT OR REPLACE INTO history (seq, tick, arrived) VALUES (?, ?, ?)", tick.seq, JSON.stringify(tick), Date.now());
    if (tick.seq % TRIM_EVERY === 0) this.trimHistory(tick.seq);
    const frame = buildTickFrame(tick, this.epoch);
    this.latestFrame = frame;
    if (this.roundFrames) this.roundFrames.push(frame);
    else for (const child of this.live.tree) this.fanout.push(child, frame);
    this.releaseDelayed();
    return tick;
  }

  /** Keeps HISTORY_SIZE ticks, and every tick the delayed stream has still to release. */
  private trimHistory(seq: number): void {
    const sql = this.ctx.storage.sql;
    const delayMs = this.config.auth.publicDelayMs;
    if (delayMs === 0) {
      sql.exec("DELETE FROM history WHERE seq <= ?", seq - this.config.historySize);
    } else {
      // A minute's margin, so the newest released tick (the snapshot) always stays.
      const keepAfter = Date.now() - delayMs - 60_000;
      sql.exec(`DELETE FROM history WHERE seq <= ? AND ${ARRIVED} < ?`, seq - this.config.historySize, keepAfter);
    }
  }

  /** Up to `limit` ticks with `after < seq < before`, oldest first, with when each arrived. */
  private ticksBetween(after: number, before: number, limit: number): Array<{ tick: Tick; arrived: number }> {
    const rows = this.ctx.storage.sql.exec<{ tick: string; arrived: number }>(
      `SELECT tick, ${ARRIVED} AS arrived FROM history WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?`,
      after,
      before,
      limit,
    );
    return rows.toArray().map((r) => ({ tick: JSON.parse(r.tick) as Tick, arrived: r.arrived }));
  }

  /** The newest `limit` ticks that arrived at least `delayMs` ago, newest first, marked delayed. */
  private releasedTicks(delayMs: number, limit: number): DelayedTick[] {
    const rows = this.ctx.storage.sql.exec<{ tick: string }>(
      `SELECT tick FROM history WHERE ${ARRIVED} <= ? ORDER BY seq DESC LIMIT ?`,
      Date.now() - delayMs,
      limit,
    );
    return rows.toArray().map((r) => markDelayed(JSON.parse(r.tick) as Tick, delayMs));
  }

  /**
   * Sends the delayed stream every tick that has become old enough since the last call, in
   * order, and sets one timer for the next. Starts (after a wake, or the first delayed
   * subscriber) from the newest tick old enough. Ticks come from the history, so nothing
   * is held per subscriber and an evicted source picks up where the clock says. While the
   * timer is set nothing is due: released in order, every later tick waits behind the one
   * it waits for.
   */
  private releaseDelayed(): void {
    const delayMs = this.config.auth.publicDelayMs;
    if (this.releaseTimer !== undefined || delayMs === 0 || this.delayed.size === 0 || this.latest === undefined) return;
    const now = Date.now();
    if (this.releasedSeq === undefined) {
      const [newest] = this.releasedTicks(delayMs, 1);
      this.releasedSeq = newest?.seq ?? 0;
      if (newest) this.releasedFrame = buildDelayedFrame(newest, this.epoch, delayMs);
    }
    for (;;) {
      const rows = this.ticksBetween(this.releasedSeq ?? 0, Number.MAX_SAFE_INTEGER, RELEASE_BATCH);
      for (const { tick, arrived } of rows) {
        if (!isReleased(arrived, delayMs, now)) {
          this.releaseTimer = setTimeout(() => {
            this.releaseTimer = undefined;
            this.releaseDelayed();
          }, arrived + delayMs - now);
          return;
        }
        const frame = buildDelayedFrame(tick, this.epoch, delayMs);
        this.releasedSeq = tick.seq;
        this.releasedFrame = frame;
        for (const child of this.delayed.tree) this.delayedFanout.push(child, frame);
      }
      if (rows.length < RELEASE_BATCH) return;
    }
  }

  private async send(holders: HolderTable, node: FanoutNode, frames: StreamFrame[]): Promise<void> {
    // Versions only grow: a holder not changed since this one still holds its "no interest" answer.
    const sentAt = holders.version;
    const idle = await deliverTo(this.env, frames, node);
    for (const { hub } of idle) {
      // Only if nothing changed since the delivery left: a new attach wins.
      if (holders.unchangedSince(hub, sentAt)) this.setHolder(holders, hub, 0);
    }
    if (idle.length > 0) await this.syncRegistration();
  }

  private setHolder(holders: HolderTable, hub: string, count: number): void {
    if (holders.set(hub, count)) this.viewersChanged();
    if (holders === this.delayed && holders.size === 0) {
      // Nobody left to release to: a later subscriber starts afresh from the clock.
      if (this.releaseTimer !== undefined) clearTimeout(this.releaseTimer);
      this.releaseTimer = this.releasedSeq = this.releasedFrame = undefined;
    }
  }

  private setWatcher(hub: string, count: number): void {
    if (count <= 0) {
      this.watchers.delete(hub);
      this.ctx.storage.sql.exec("DELETE FROM watchers WHERE name = ?", hub);
    } else if (this.watchers.get(hub) !== count) {
      this.watchers.set(hub, count);
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO watchers (name, count) VALUES (?, ?)", hub, count);
    }
  }

  /** The viewer count changed: watchers hear of it now, or once a second has passed since the last report. */
  private viewersChanged(): void {
    if (this.viewersTimer !== undefined) return;
    const wait = this.viewersFrame.seq + VIEWERS_EVERY_MS - Date.now();
    this.viewersTimer = setTimeout(() => {
      this.viewersTimer = undefined;
      const viewers = this.viewers();
      if (viewers === this.reportedViewers) return;
      this.reportedViewers = viewers;
      this.viewersFrame = buildViewersFrame(this.symbol, viewers, Math.max(Date.now(), this.viewersFrame.seq + 1));
      for (const hub of this.watchers.keys()) this.viewerQueues.push(hub, this.viewersFrame);
    }, Math.max(0, wait));
  }

  private async sendViewers(hub: string, frames: StreamFrame[]): Promise<void> {
    const idle = await deliverTo(this.env, frames, { hub });
    if (idle.length > 0) this.setWatcher(hub, 0);
  }
}

/** What a feed round did to a symbol: whether it is still watched, its latest tick, and the frames to deliver to `hubs`. */
export interface Ingested {
  active: boolean;
  tick?: Tick;
  frames?: StreamFrame[];
  hubs?: string[];
  /** The holder table's version when the frames left (for dropIdle). */
  version?: number;
}

function notYetReleased(symbol: string, delayMs: number): Unavailable {
  return { unavailable: "busy", reason: `no price of ${symbol} is ${delayMs / 1000} s old yet (prices are delayed for the public)`, retryAfterMs: delayMs };
}
