import { DurableObject } from "cloudflare:workers";
import { buildFanoutTree, nodeName, treeShape, type FanoutNode } from "../broker/fanout-tree";
import { DeliveryQueues } from "../broker/delivery-queue";
import { buildTickFrame, type TickFrame } from "../broker/tick-frame";
import { readConfig, type Config } from "../config";
import type { Env } from "../env";
import type { QuoteResult } from "../feeds/provider";
import { log } from "../log";
import { nextTick, type Quote, type Tick } from "../market/tick";
import { deliverTo } from "./fanout";
import { schedulerFor } from "./stubs";

/** At most this many ticks answer one gap-fill request. */
const MAX_RANGE = 1_000;

interface Holder {
  count: number;
  /** Bumped on every change, so a late "no interest" answer cannot undo a newer attach. */
  generation: number;
}

/**
 * One object per symbol: the only owner of its stream. It keeps the symbol's `seq`,
 * its `epoch` (made once, when the stored state is created), the latest tick, the
 * history ring and the table of hubs holding subscribers with their subscription
 * counts. Prices come from its feed-scheduler shard (always within the request budget)
 * or from publishers; each tick is sent once to each child of the fan-out tree (hubs,
 * or relays when there are more hubs than FANOUT_DEGREE), without waiting for it.
 */
export class SymbolSource extends DurableObject<Env> {
  private readonly config: Config;
  private readonly symbol: string;
  private latest: Tick | undefined;
  private latestFrame: TickFrame | undefined;
  private epoch = "";
  private readonly holders = new Map<string, Holder>();
  private generation = 0;
  private tree: FanoutNode[] = [];
  private readonly fanout: DeliveryQueues<FanoutNode, TickFrame>;
  private firstQuote: Promise<TickFrame> | undefined;
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
    this.fanout = new DeliveryQueues(nodeName, (node, frames) => this.send(node, frames));
    const sql = ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY, tick TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS holders (name TEXT PRIMARY KEY, count INTEGER NOT NULL)");
    for (const row of sql.exec<{ name: string; count: number }>("SELECT name, count FROM holders")) {
      this.holders.set(row.name, { count: row.count, generation: 0 });
    }
    this.rebuildTree();
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<unknown>(["tick", "epoch", "publishedAt"]);
      this.latest = stored.get("tick") as Tick | undefined;
      if (this.latest) this.latestFrame = buildTickFrame(this.latest);
      this.publishedAt = (stored.get("publishedAt") as number | undefined) ?? 0;
      this.epoch = (stored.get("epoch") as string | undefined) ?? "";
      if (!this.epoch) {
        // A new stream (or its state was lost): positions from another epoch do not apply.
        this.epoch = crypto.randomUUID().slice(0, 8);
        await ctx.storage.put("epoch", this.epoch);
      }
    });
  }

  // ---------------------------------------------------------------- hubs

  /** A hub holds `count` subscriptions of this symbol; returns the latest frame (its snapshot). */
  async attach(hub: string, count: number): Promise<TickFrame> {
    this.setHolder(hub, Math.max(1, count));
    const frame = await this.ensureLatest();
    await this.syncRegistration();
    return frame;
  }

  /** A hub's subscription count changed (0: it holds none any more). */
  async interest(hub: string, count: number): Promise<void> {
    this.setHolder(hub, count);
    await this.syncRegistration();
  }

  /** Frames with `after < seq < before`, oldest first: a hub fills a gap in its deliveries. */
  range(after: number, before: number): TickFrame[] {
    const rows = this.ctx.storage.sql.exec<{ tick: string }>(
      "SELECT tick FROM history WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?",
      after,
      before,
      MAX_RANGE,
    );
    return rows.toArray().map((r) => buildTickFrame(JSON.parse(r.tick) as Tick));
  }

  /** Subscriptions across every hub. */
  viewers(): number {
    let total = 0;
    for (const h of this.holders.values()) total += h.count;
    return total;
  }

  // ---------------------------------------------------------------- prices

  /**
   * One feed round for this symbol, from its scheduler: a quote, a fault, or nothing
   * (the budget skipped it). Keeps the last good price and re-sends it marked stale once
   * no good quote came for STALE_AFTER_MS, or for two update intervals when the budget
   * spaces them further apart. Returns at once: fan-out does not hold up the round.
   */
  async ingest(result: QuoteResult | undefined, updateIntervalMs = 0): Promise<{ active: boolean; tick?: Tick }> {
    if (!this.active()) {
      this.registered = false;
      return { active: false };
    }
    const now = Date.now();
    // Published ticks are authoritative: the feed stays quiet for the symbol while they flow.
    if (result && "quote" in result && now - this.publishedAt >= this.config.publishHoldMs) {
      this.commit(result.quote);
      this.freshAt = now;
    }
    const latest = this.latest;
    const staleAfter = Math.max(this.config.staleAfterMs, 2 * updateIntervalMs);
    if (latest && !latest.stale && now - Math.max(this.freshAt, this.publishedAt) > staleAfter) {
      // Never a made-up price: the last good one again, flagged.
      this.record({ ...latest, seq: latest.seq + 1, stale: true });
    }
    return { active: true, tick: this.latest };
  }

  /** Applies published quotes in order: numbered, persisted and sent. */
  async publishQuotes(quotes: Quote[]): Promise<Tick[]> {
    this.publishedAt = Date.now();
    void this.ctx.storage.put("publishedAt", this.publishedAt);
    return quotes.map((q) => this.commit(q));
  }

  /** The latest tick, fetching the symbol's first one (through the request budget) if it never ticked. */
  async latestTick(): Promise<Tick> {
    await this.ensureLatest();
    return this.latest!;
  }

  /** The latest tick if there is one; never asks the feed (the scheduler continues simulated paths from it). */
  latestKnown(): Tick | undefined {
    return this.latest;
  }

  /** The last `limit` ticks, oldest first (charts fill from this before the first live tick). */
  async history(limit: number): Promise<Tick[]> {
    await this.ensureLatest();
    const rows = this.ctx.storage.sql.exec<{ tick: string }>("SELECT tick FROM history ORDER BY seq DESC LIMIT ?", limit);
    const ticks = rows
      .toArray()
      .map((r) => JSON.parse(r.tick) as Tick)
      .reverse();
    // Ticks from before history was kept: at least the latest one.
    return ticks.length > 0 ? ticks : [this.latest!];
  }

  /** Stream position and fan-out, for /healthz and tests. */
  status(): { symbol: string; epoch: string; seq: number; viewers: number; hubs: number; tree: ReturnType<typeof treeShape> } {
    return {
      symbol: this.symbol,
      epoch: this.epoch,
      seq: this.latest?.seq ?? 0,
      viewers: this.viewers(),
      hubs: this.holders.size,
      tree: treeShape(this.tree),
    };
  }

  /** Test hook (TEST_HOOKS only): drop this instance as an eviction would; storage stays. */
  evict(): void {
    this.ctx.abort("evicted by test hook");
  }

  // ---------------------------------------------------------------- internals

  private active(): boolean {
    return this.holders.size > 0;
  }

  /** Registers with the feed scheduler while any hub holds subscribers; leaves when none does. */
  private async syncRegistration(): Promise<void> {
    const active = this.active();
    if (active === this.registered) return;
    this.registered = active;
    const scheduler = schedulerFor(this.env, this.symbol, this.config.schedulerShards);
    if (active) await scheduler.activate(this.symbol);
    else await scheduler.deactivate(this.symbol);
  }

  private ensureLatest(): Promise<TickFrame> {
    if (this.latestFrame) return Promise.resolve(this.latestFrame);
    // The first quote of a cold symbol goes through the scheduler's request budget too.
    this.firstQuote ??= schedulerFor(this.env, this.symbol, this.config.schedulerShards)
      .firstQuote(this.symbol)
      .then((quote) => {
        if (!this.latestFrame) this.commit(quote);
        return this.latestFrame!;
      })
      .finally(() => (this.firstQuote = undefined));
    return this.firstQuote;
  }

  private commit(quote: Quote): Tick {
    return this.record(nextTick(this.latest, quote, Date.now()));
  }

  /** Numbers, persists and sends one tick. */
  private record(tick: Tick): Tick {
    this.latest = tick;
    // Not awaited: the output gate holds every delivery until the write is durable,
    // so a seq is never seen by a client and then lost.
    void this.ctx.storage.put("tick", tick);
    // A bounded ring in SQLite: one insert and one trim per tick.
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO history (seq, tick) VALUES (?, ?)", tick.seq, JSON.stringify(tick));
    this.ctx.storage.sql.exec("DELETE FROM history WHERE seq <= ?", tick.seq - this.config.historySize);
    const frame = buildTickFrame(tick);
    this.latestFrame = frame;
    for (const child of this.tree) this.fanout.push(child, frame);
    return tick;
  }

  private async send(node: FanoutNode, frames: TickFrame[]): Promise<void> {
    const generations = new Map([...this.holders].map(([name, h]) => [name, h.generation]));
    const idle = await deliverTo(this.env, this.symbol, frames, node);
    for (const hub of idle) {
      // Only if nothing changed since the delivery left: a new attach wins.
      if (this.holders.get(hub)?.generation === generations.get(hub)) this.setHolder(hub, 0);
    }
    if (idle.length > 0) await this.syncRegistration();
  }

  private setHolder(hub: string, count: number): void {
    const known = this.holders.get(hub);
    if (count <= 0) {
      if (!known) return;
      this.holders.delete(hub);
      this.ctx.storage.sql.exec("DELETE FROM holders WHERE name = ?", hub);
      this.rebuildTree();
      return;
    }
    this.holders.set(hub, { count, generation: ++this.generation });
    if (known?.count !== count) this.ctx.storage.sql.exec("INSERT OR REPLACE INTO holders (name, count) VALUES (?, ?)", hub, count);
    if (!known) this.rebuildTree();
  }

  private rebuildTree(): void {
    const before = treeShape(this.tree);
    this.tree = buildFanoutTree(this.symbol, [...this.holders.keys()], this.config.fanoutDegree);
    const after = treeShape(this.tree);
    if (after.depth !== before.depth || after.relays !== before.relays || after.hubs !== before.hubs) {
      log("fanout_tree", { symbol: this.symbol, ...after });
    }
  }
}
