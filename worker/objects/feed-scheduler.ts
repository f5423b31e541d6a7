import { DurableObject } from "cloudflare:workers";
import { type Config, readConfig } from "../config";
import type { Env } from "../env";
import { treeShape } from "../fanout/tree";
import { createFeed, streamsPrices } from "../feeds";
import { RequestBudget, type RoundPlan } from "../feeds/budget";
import type { BarHistory, FeedProvider, HistoryFault, QuoteRequest, QuoteResult } from "../feeds/provider";
import type { Unavailable } from "../feeds/unavailable";
import { log } from "../log";
import type { Quote, Tick } from "../market/tick";
import { type AnalyticsWriter, writerFor } from "../metrics/analytics";
import { FeedMetrics } from "../metrics/feed-metrics";
import type { Ingested } from "./round";
import { RoundSender } from "./round";
import { shardNumber, sourceStub, streamShard } from "./stubs";

/** Sources handed their results at once per round (each answers once its tick is stored: slices add their waits up); more wait for the next slice. */
const INGEST_CONCURRENCY = 256;
/** How long a cold symbol's first quote may wait for the request budget. */
const FIRST_QUOTE_WAIT_MS = 5_000;
/** How long a symbol the provider does not know is answered from memory. */
const UNKNOWN_SYMBOL_TTL_MS = 600_000;
/**
 * The share of the request budget kept for first quotes of new symbols: a flood of
 * look-ups (unknown symbols, say) can use it up, but never the rounds of watched symbols.
 */
const COLD_SHARE = 0.25;
/** A history the budget had no room for is worth asking for again after this long. */
const HISTORY_RETRY_MS = 60_000;

export interface FeedStatus {
  provider: string;
  requestsPerMinute: number | null;
  roundIntervalMs: number;
  activeSymbols: number;
  /** The last round: symbols served, upstream requests, whether the budget held it back, and its delivery tree's size. */
  lastRound?: { at: number; served: number; requests: number; limited: boolean; hubs: number; relays: number };
  /** Symbols whose latest pull failed, with the one-line reason. */
  faults: Record<string, string>;
  /** poll, or stream (the provider's WebSocket; symbols it does not serve just now are polled). */
  transport: "stream" | "poll";
  /** Symbols the stream served in the last round (not polled). */
  streamed: number;
}

/**
 * While a symbol streams, no newer trade means no newer price: its ticks say so by counting
 * as stale only this long after the last one (a stream that fails hands the symbol back to
 * polling within a round, whose ticks carry the usual figure).
 */
const STREAMED_UPDATE_INTERVAL_MS = 30 * 60_000;

/**
 * The one place that pulls prices, sharded by symbol hash (`feed:{shard}`, SCHEDULER_SHARDS),
 * each shard with its share of the provider's request budget. A shard keeps the registry
 * of its symbols with subscribers (their sources register and drop out), and an alarm
 * loop pulls them every TICK_INTERVAL_MS (or the provider's minimum interval) in batches
 * within the budget; when the budget cannot cover every symbol it serves them
 * round-robin. Each source gets its result (or nothing, when skipped), numbers and stores
 * it, and hands back its frame with the hubs holding the symbol. The round then goes out
 * as one delivery per hub carrying every symbol that hub holds (through relays past
 * FANOUT_DEGREE hubs), so a watchlist costs a hub one call and each connection one write
 * per round, not one per symbol; the next round does not wait for it. Nothing comes back:
 * a hub that holds a symbol no more tells the symbol's source itself. A cold symbol's
 * first quote is taken from the same budget. The cron trigger re-arms a lost loop.
 */
export class FeedScheduler extends DurableObject<Env> {
  private readonly config: Config;
  private readonly feed: FeedProvider;
  private readonly budget: RequestBudget;
  /** The share of the budget for first quotes of new symbols (the rounds have the rest). */
  private readonly coldBudget: RequestBudget;
  /** Symbols the provider does not know, until when, and why. */
  private readonly unknown = new Map<string, { until: number; reason: string }>();
  private readonly requestsPerMinute: number;
  /** What the rounds may use: the budget less the share kept for new symbols. */
  private readonly roundsPerMinute: number;
  /** TICK_INTERVAL_MS, or the provider's minimum polling period if that is longer. */
  private readonly roundIntervalMs: number;
  /** Each symbol's latest tick, for feeds that evolve prices (the simulator). */
  private readonly last = new Map<string, Tick>();
  private readonly faults = new Map<string, string>();
  /** The active set, read from storage once per instance (listing it every round cost ~9% of the worker's CPU). */
  private active: Set<string> | undefined;
  private lastRound: FeedStatus["lastRound"];
  /** One round delivery in flight per node of the round's tree; rounds that pile up behind a slow hub go together. */
  private readonly rounds: RoundSender;
  /** What this shard counts (METRICS=on), from 0 with the instance. */
  private readonly counts: FeedMetrics | undefined;
  private readonly analytics: AnalyticsWriter | undefined;
  /** Prices stream from the provider's WebSocket (FEED_TRANSPORT), through this shard's UpstreamStream. */
  private readonly streaming: boolean;
  private streamedCount = 0;
  /** Active-set reports to the stream go one at a time, in order. */
  private following: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.feed = createFeed(this.config);
    const total = this.config.feed.requestsPerMinute ?? this.feed.capabilities.requestsPerMinute;
    this.requestsPerMinute = total / this.config.schedulerShards;
    const cold = Math.max(1, this.requestsPerMinute * COLD_SHARE);
    // Its whole minute's worth at once: a page opening with a watchlist of new symbols.
    this.coldBudget = new RequestBudget(cold, 1, Date.now(), cold);
    this.roundsPerMinute = Number.isFinite(this.requestsPerMinute)
      ? this.requestsPerMinute - cold
      : this.requestsPerMinute;
    this.budget = new RequestBudget(this.roundsPerMinute, this.feed.capabilities.maxSymbolsPerRequest, Date.now());
    this.roundIntervalMs = Math.max(this.config.tickIntervalMs, this.feed.capabilities.minIntervalMs);
    this.rounds = new RoundSender(env, () => `round:${this.ctx.id.name ?? "feed"}`, this.config.fanoutDegree);
    this.counts = this.config.metrics
      ? new FeedMetrics(Date.now(), this.feed.id, {
          activeSymbols: () => this.active?.size ?? 0,
          budgetLeft: () => this.budget.left(Date.now()),
          coldBudgetLeft: () => this.coldBudget.left(Date.now()),
          requestsPerMinute: () => this.requestsPerMinute,
        })
      : undefined;
    const name = `feed:${ctx.id.name?.replace(/^feed:/, "") ?? "?"}`;
    this.analytics =
      this.counts && env.METRICS_DATASET
        ? writerFor(env.METRICS_DATASET, "scheduler", () => name, this.config.metricsWriteMs, log)
        : undefined;
    this.streaming = streamsPrices(this.config);
  }

  /** Tells the shard's stream the active set (`rearm`: the cron sweep, also retry a failed stream). */
  private followStream(rearm = false): Promise<void> {
    if (!this.streaming) return Promise.resolve();
    this.following = this.following.then(async () => {
      const symbols = await this.activeSymbols();
      await streamShard(this.env, shardNumber(this.ctx.id.name))
        .follow(symbols, rearm)
        .catch((err) => log("stream_follow_failed", { error: String(err) }));
    });
    return this.following;
  }

  /** The symbols the stream serves just now; none when it is down (all are polled). */
  private async streamedSymbols(): Promise<Set<string>> {
    if (!this.streaming) return new Set();
    try {
      const streamed = await streamShard(this.env, shardNumber(this.ctx.id.name)).streamed();
      // A stream object that lost its memory (evicted, redeployed) learns the active set again.
      if (streamed === null) void this.followStream();
      return new Set(streamed ?? []);
    } catch {
      return new Set();
    }
  }

  /**
   * After the stream was down: one REST quote per symbol to bring it current, within the
   * request budget (symbols it cannot cover now wait for the stream's next trade).
   */
  async catchUp(symbols: string[]): Promise<QuoteResult[]> {
    const now = Date.now();
    const plan = this.budget.plan(symbols, now);
    if (plan.symbols.length === 0) return [];
    const results = await this.feed.quotes(
      plan.symbols.map((symbol) => ({ symbol })),
      now,
    );
    for (const r of results) this.noteFault(r.symbol, "error" in r ? r.error : undefined);
    return results;
  }

  /** Adds a symbol with subscribers; false when the shard already has its share of MAX_ACTIVE_SYMBOLS. */
  async activate(symbol: string): Promise<boolean> {
    const active = await this.activeSet();
    if (!active.has(symbol)) {
      const cap = Math.ceil(this.config.maxActiveSymbols / this.config.schedulerShards);
      if (active.size >= cap) {
        log("active_symbols_full", { symbol, cap });
        return false;
      }
      active.add(symbol);
      await this.ctx.storage.put(`active:${symbol}`, Date.now());
      void this.followStream();
    }
    // A new symbol's source has just had its first quote (the snapshot): next round in one interval.
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + this.roundIntervalMs);
    return true;
  }

  /**
   * A new symbol's first quote, within the request budget: new symbols may use only a
   * share of it, waiting briefly for room, and a symbol the provider does not know is
   * remembered for a while and answered without asking again.
   */
  async firstQuote(symbol: string): Promise<{ quote: Quote } | Unavailable> {
    const now = Date.now();
    const unknown = this.unknown.get(symbol);
    if (unknown && unknown.until > now) {
      this.counts?.firstQuote(false, "unknown");
      return { unavailable: "unknown", reason: unknown.reason };
    }
    this.unknown.delete(symbol);
    const deadline = now + FIRST_QUOTE_WAIT_MS;
    for (;;) {
      const wait = this.coldBudget.waitFor(1, Date.now());
      if (wait === 0 && this.coldBudget.take(1, Date.now())) break;
      if (Date.now() + wait > deadline) {
        this.counts?.firstQuote(false, "busy");
        return {
          unavailable: "busy",
          reason: `too many new symbols for the ${this.feed.id} request budget just now`,
          retryAfterMs: wait,
        };
      }
      await new Promise((r) => setTimeout(r, Math.max(wait, 50)));
    }
    const [result] = await this.feed.quotes([{ symbol }], Date.now());
    this.noteFault(symbol, result && "error" in result ? result.error : undefined);
    const outcome =
      result && "quote" in result ? "ok" : result?.error.startsWith("unknown-symbol") ? "unknown" : "upstream";
    this.counts?.firstQuote(true, outcome);
    if (result && "quote" in result) return { quote: result.quote };
    const reason = `no price for ${symbol}: ${result?.error ?? "the feed returned nothing"}`;
    if (!result?.error.startsWith("unknown-symbol")) return { unavailable: "upstream", reason };
    if (this.unknown.size >= 10_000) this.unknown.delete(this.unknown.keys().next().value!);
    this.unknown.set(symbol, { until: Date.now() + UNKNOWN_SYMBOL_TTL_MS, reason });
    return { unavailable: "unknown", reason };
  }

  /**
   * A new symbol's intraday history from the provider's aggregates endpoint, when it has
   * one: one request from the new symbols' share of the budget, now or not at all (a
   * history is not worth delaying prices for).
   */
  async minuteBars(symbol: string, from: number, to: number): Promise<BarHistory | HistoryFault> {
    if (!this.feed.minuteBars) return { error: `${this.feed.id} has no intraday history endpoint` };
    if (!this.coldBudget.take(1, Date.now()))
      return {
        error: `no room in the ${this.feed.id} request budget for a history just now`,
        retryAt: Date.now() + HISTORY_RETRY_MS,
      };
    return this.feed.minuteBars(symbol, from, to);
  }

  async deactivate(symbol: string): Promise<void> {
    (await this.activeSet()).delete(symbol);
    await this.ctx.storage.delete(`active:${symbol}`);
    this.last.delete(symbol);
    this.faults.delete(symbol);
    void this.followStream();
  }

  async activeSymbols(): Promise<string[]> {
    return [...(await this.activeSet())];
  }

  private async activeSet(): Promise<Set<string>> {
    if (!this.active) {
      const entries = await this.ctx.storage.list({ prefix: "active:" });
      this.active ??= new Set([...entries.keys()].map((k) => k.slice("active:".length)));
    }
    return this.active;
  }

  async status(): Promise<FeedStatus> {
    return {
      provider: this.feed.id,
      requestsPerMinute: Number.isFinite(this.requestsPerMinute) ? this.requestsPerMinute : null,
      roundIntervalMs: this.roundIntervalMs,
      activeSymbols: (await this.activeSymbols()).length,
      lastRound: this.lastRound,
      faults: Object.fromEntries(this.faults),
      transport: this.streaming ? "stream" : "poll",
      streamed: this.streamedCount,
    };
  }

  /** This shard's figures (GET /metrics, /status), or undefined with METRICS=off. */
  async metrics(): Promise<ReturnType<FeedMetrics["snapshot"]> | undefined> {
    await this.activeSet();
    return this.counts?.snapshot(this.faults);
  }

  /** Cron: re-arms the pull loop if symbols are active but the alarm was lost. Returns how many are active. */
  async sweep(): Promise<number> {
    const active = (await this.activeSymbols()).length;
    let rearmed = false;
    if (active > 0 && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now());
      rearmed = true;
    }
    // A lost stream (evicted object, failed connection) is re-armed as the loop is.
    if (active > 0) await this.followStream(true);
    log("sweep", { active, rearmed });
    return active;
  }

  override async alarm(): Promise<void> {
    const started = Date.now();
    const symbols = await this.activeSymbols();
    if (symbols.length === 0) return; // the next activate() restarts the loop
    // Streamed symbols are not polled; the rest (or all, while the stream is down) are.
    const streamed = await this.streamedSymbols();
    this.streamedCount = streamed.size;
    const plan = this.budget.plan(streamed.size === 0 ? symbols : symbols.filter((s) => !streamed.has(s)), started);
    if (plan.limited !== (this.lastRound?.limited ?? false)) {
      log(plan.limited ? "feed_budget_limited" : "feed_budget_ok", {
        provider: this.feed.id,
        requestsPerMinute: this.requestsPerMinute,
        active: symbols.length,
        servedPerRound: plan.symbols.length,
      });
    }
    const results = await this.pull(plan, started);
    this.counts?.round(
      plan.requests,
      plan.limited,
      [...results.values()].map((r) => ("error" in r ? r.error : undefined)),
    );
    this.analytics?.write(Date.now(), () => this.counts!.snapshot(this.faults));
    // How often each symbol gets a quote when the budget makes them take turns.
    const perMinute = this.roundsPerMinute * this.feed.capabilities.maxSymbolsPerRequest;
    const updateIntervalMs = Math.max(this.roundIntervalMs, plan.limited ? (symbols.length * 60_000) / perMinute : 0);
    // Sources answer once the tick is numbered and stored.
    const ingested: Ingested[] = [];
    for (let i = 0; i < symbols.length; i += INGEST_CONCURRENCY) {
      const slice = symbols.slice(i, i + INGEST_CONCURRENCY);
      ingested.push(
        ...(await Promise.all(
          slice.map((symbol) =>
            this.handOver(
              symbol,
              results.get(symbol),
              streamed.has(symbol) ? STREAMED_UPDATE_INTERVAL_MS : updateIntervalMs,
            ),
          ),
        )),
      );
    }
    const tree = treeShape(this.rounds.send(ingested));
    this.lastRound = {
      at: started,
      served: plan.symbols.length,
      requests: plan.requests,
      limited: plan.limited,
      hubs: tree.hubs,
      relays: tree.relays,
    };
    await this.ctx.storage.setAlarm(started + this.roundIntervalMs);
  }

  private async handOver(symbol: string, result: QuoteResult | undefined, updateIntervalMs: number): Promise<Ingested> {
    try {
      const ingested = await sourceStub(this.env, symbol).ingest(result, updateIntervalMs);
      if (!ingested.active) await this.deactivate(symbol);
      else if (ingested.tick) this.last.set(symbol, ingested.tick);
      return ingested;
    } catch (err) {
      log("ingest_failed", { symbol, error: String(err) });
      return { active: true };
    }
  }

  private async pull(plan: RoundPlan, now: number): Promise<Map<string, QuoteResult>> {
    if (plan.symbols.length === 0) return new Map();
    const requests: QuoteRequest[] = await Promise.all(
      plan.symbols.map(async (symbol) => ({ symbol, last: this.last.get(symbol) ?? (await this.latestOf(symbol)) })),
    );
    const results = new Map((await this.feed.quotes(requests, now)).map((r) => [r.symbol, r]));
    for (const [symbol, result] of results) this.noteFault(symbol, "error" in result ? result.error : undefined);
    return results;
  }

  /** After a restart a feed that evolves prices must continue each symbol's path, not start over. */
  private async latestOf(symbol: string): Promise<Tick | undefined> {
    if (!this.feed.capabilities.continuesFromLast) return undefined;
    return sourceStub(this.env, symbol)
      .latestKnown()
      .catch(() => undefined);
  }

  /** One log line per distinct fault and one when it clears, not one per round. */
  private noteFault(symbol: string, error: string | undefined): void {
    const previous = this.faults.get(symbol);
    if (error === undefined) {
      if (previous !== undefined) log("feed_recovered", { provider: this.feed.id, symbol });
      this.faults.delete(symbol);
      return;
    }
    const kind = error.split(":")[0];
    if (previous?.split(":")[0] !== kind) log("feed_fault", { provider: this.feed.id, symbol, error });
    this.faults.set(symbol, error);
  }
}
