import { DurableObject } from "cloudflare:workers";
import { type Config, readConfig } from "../config";
import type { Env } from "../env";
import { treeShape } from "../fanout/tree";
import { createFeed, streamsPrices } from "../feeds";
import type { Fault } from "../feeds/fault";
import type { BarHistory, FeedProvider, QuoteResult } from "../feeds/provider";
import type { Admission, Unavailable } from "../feeds/unavailable";
import { log } from "../log";
import { knownByConfig } from "../market/known-symbols";
import type { Quote } from "../market/tick";
import { type AnalyticsWriter, writerFor } from "../metrics/analytics";
import { FeedMetrics } from "../metrics/feed-metrics";
import { handOver } from "./hand-over";
import type { Ingested } from "./round";
import { RoundSender } from "./round";
import { type Activation, type ActiveEntry, ActiveSet } from "./scheduler/active-set";
import { catchUpPlan, firstThen, type ShardBudgets, shardBudgets, updateIntervalMs } from "./scheduler/budgets";
import { FaultLog } from "./scheduler/fault-log";
import { FirstQuotes } from "./scheduler/first-quotes";
import { Puller } from "./scheduler/puller";
import type { FeedStatus } from "./scheduler/status";
import { StreamLink } from "./scheduler/stream-link";
import { SymbolBook } from "./scheduler/symbol-book";
import { shardNumber, sourceStub, upstreamFor } from "./stubs";

/** Sources handed their results at once per round (each answers once its tick is stored: slices add their waits up); more wait for the next slice. */
const INGEST_CONCURRENCY = 256;
/** A streamed symbol's ticks count as stale only this long after the last (no trade, no newer price; polled ones keep the usual figure). */
const STREAMED_UPDATE_INTERVAL_MS = 30 * 60_000;
const WAITS = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };

/**
 * The one place that pulls prices, sharded by symbol hash (`feed:{shard}`), each shard with
 * its share of the request budget: the registry of its symbols with subscribers (each
 * charged to the client that brought it in), pulled by an alarm loop within the budget and
 * handed to their sources, whose frames go out as one delivery per hub. It is also the
 * book of which symbols are real beyond the config (published, or quoted by the provider):
 * nothing makes a symbol's object until this says yes. The cron trigger re-arms a lost loop.
 */
export class FeedScheduler extends DurableObject<Env> {
  private readonly config: Config;
  private readonly feed: FeedProvider;
  /** The shard's share of the request budget: the rounds', and the part kept for new symbols. */
  private readonly budgets: ShardBudgets;
  private readonly book = new SymbolBook();
  /** Admissions, first quotes and histories of new symbols, from their share of the budget. */
  private readonly newSymbols: FirstQuotes;
  /** TICK_INTERVAL_MS, or the provider's minimum polling period if that is longer. */
  private readonly roundIntervalMs: number;
  private readonly faults = new FaultLog();
  /** The rounds' requests, with each symbol's last tick; every result goes into the fault log. */
  private readonly puller: Puller;
  /** The active set, read from storage once per instance (listing it every round cost ~9% of the worker's CPU). */
  private readonly active: ActiveSet;
  private lastRound: FeedStatus["lastRound"];
  /** One round delivery in flight per node of the round's tree; rounds that pile up behind a slow hub go together. */
  private readonly rounds: RoundSender;
  /** What this shard counts (METRICS=on), from 0 with the instance. */
  private readonly counts: FeedMetrics | undefined;
  private readonly analytics: AnalyticsWriter | undefined;
  /** Prices stream from the provider's WebSocket (FEED_TRANSPORT), through the deployment's UpstreamStream. */
  private readonly stream: StreamLink;
  private streamedCount = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.feed = createFeed(this.config);
    const shards = this.config.schedulerShards;
    const total = this.config.feed.requestsPerMinute ?? this.feed.capabilities.requestsPerMinute;
    const budgets = shardBudgets(total, shards, this.feed.capabilities.maxSymbolsPerRequest, Date.now());
    this.budgets = budgets;
    this.roundIntervalMs = Math.max(this.config.tickIntervalMs, this.feed.capabilities.minIntervalMs);
    this.active = new ActiveSet({
      total: Math.ceil(this.config.maxActiveSymbols / shards),
      perHolder: Math.ceil(this.config.maxActiveSymbolsPerAddress / shards),
    });
    this.rounds = new RoundSender(env, () => `round:${this.ctx.id.name ?? "feed"}`, this.config.fanoutDegree);
    this.counts = this.config.metrics
      ? new FeedMetrics(Date.now(), this.feed.id, {
          activeSymbols: () => this.active.size,
          budgetLeft: () => budgets.rounds.left(Date.now()),
          coldBudgetLeft: () => budgets.cold.left(Date.now()),
          requestsPerMinute: () => budgets.requestsPerMinute,
        })
      : undefined;
    const name = `feed:${ctx.id.name?.replace(/^feed:/, "") ?? "?"}`;
    this.analytics =
      this.counts && env.METRICS_DATASET
        ? writerFor(env.METRICS_DATASET, "scheduler", () => name, this.config.metricsWriteMs, log)
        : undefined;
    // The deployment's one upstream stream, asked about this shard's symbols.
    this.stream = new StreamLink(
      streamsPrices(this.config) ? () => upstreamFor(env, shardNumber(ctx.id.name)) : undefined,
      () => this.active.symbols(),
      (err) => log("stream_follow_failed", { error: String(err) }),
    );
    this.newSymbols = new FirstQuotes({
      feed: this.feed,
      coldBudget: budgets.cold,
      book: this.book,
      faults: this.faults,
      counts: this.counts,
      waits: WAITS,
      streamed: this.stream.streaming,
      know: (symbol) => this.know(symbol),
      retire: async (symbol) => {
        await this.deactivate(symbol);
        await sourceStub(env, symbol).retire("unknown");
      },
      log,
    });
    this.puller = new Puller({
      feed: this.feed,
      faults: this.faults,
      latestKnown: (symbol) => sourceStub(env, symbol).latestKnown(),
      log,
    });
    void ctx.blockConcurrencyWhile(async () => {
      this.active.load(await ctx.storage.list<ActiveEntry | number>({ prefix: "active:" }).then(unprefixed));
      this.book.load((await ctx.storage.list({ prefix: "known:" }).then(unprefixed)).map(([symbol]) => symbol));
    });
  }

  /** After the stream was down: one REST quote per symbol to bring it current, within the budget (`catchUpPlan`). */
  async catchUp(symbols: string[]): Promise<QuoteResult[]> {
    const now = Date.now();
    const asked = catchUpPlan(this.budgets, symbols, now);
    if (asked.length === 0) return [];
    const results = await this.feed.quotes(
      asked.map((symbol) => ({ symbol })),
      now,
    );
    for (const r of results) this.puller.note(r, now);
    return results;
  }

  /**
   * Adds a symbol with subscribers, charged to `by` (the client address that brought it
   * in); refused when the shard has its share of MAX_ACTIVE_SYMBOLS, or `by` its share of
   * MAX_ACTIVE_SYMBOLS_PER_ADDRESS.
   */
  async activate(symbol: string, by?: string): Promise<Activation> {
    const { outcome, entry } = this.active.activate(symbol, by, Date.now());
    if (outcome !== "ok") {
      log("active_symbols_refused", { symbol, outcome, active: this.active.size });
      return outcome;
    }
    if (entry) {
      await this.ctx.storage.put(`active:${symbol}`, entry);
      void this.stream.follow();
    }
    // A new symbol's source has just had its first quote (the snapshot): next round in one interval.
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + this.roundIntervalMs);
    return "ok";
  }

  /** Whether `symbol` is real here, before anything makes its object (see `FirstQuotes.admit`; `hold`: for a viewer). */
  admit(symbol: string, ask: boolean, hold = false): Promise<Admission> {
    return this.newSymbols.admit(symbol, this.book.isKnown(symbol) || this.active.has(symbol), ask, hold);
  }

  /** A publisher sent ticks of `symbol`: it is real from now on. */
  async remember(symbol: string): Promise<void> {
    await this.know(symbol);
  }

  /** `symbol`'s source deleted its state (unused for SYMBOL_RETENTION_MS): unknown again. */
  async forget(symbol: string): Promise<void> {
    if (this.book.forget(symbol)) await this.ctx.storage.delete(`known:${symbol}`);
  }

  /** A new symbol's first quote: the one taken to admit it, or one from the first quotes' budget (waiting up to `waitMs`). */
  firstQuote(symbol: string, waitMs?: number): Promise<{ quote: Quote } | Unavailable> {
    return this.newSymbols.first(symbol, waitMs);
  }

  /** A new symbol's intraday history (aggregates endpoint): one request now, or not at all (never delaying prices). */
  minuteBars(symbol: string, from: number, to: number): Promise<BarHistory | { fault: Fault }> {
    return this.newSymbols.minuteBars(symbol, from, to);
  }

  async deactivate(symbol: string): Promise<void> {
    if (this.active.deactivate(symbol)) await this.ctx.storage.delete(`active:${symbol}`);
    this.puller.forget(symbol);
    void this.stream.follow();
  }

  async activeSymbols(): Promise<string[]> {
    return this.active.symbols();
  }

  async status(): Promise<FeedStatus> {
    return {
      provider: this.feed.id,
      requestsPerMinute: Number.isFinite(this.budgets.requestsPerMinute) ? this.budgets.requestsPerMinute : null,
      roundIntervalMs: this.roundIntervalMs,
      activeSymbols: this.active.size,
      lastRound: this.lastRound,
      faults: this.faults.report(),
      transport: this.stream.streaming ? "stream" : "poll",
      streamed: this.streamedCount,
    };
  }

  /** This shard's figures (GET /metrics, /status), or undefined with METRICS=off. */
  async metrics(): Promise<ReturnType<FeedMetrics["snapshot"]> | undefined> {
    return this.counts?.snapshot(this.faults.report());
  }

  /** Cron: re-arms the pull loop if symbols are active but the alarm was lost. Returns how many are active. */
  async sweep(): Promise<number> {
    const active = this.active.size;
    let rearmed = false;
    if (active > 0 && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now());
      rearmed = true;
    }
    // A stream that lost its memory (evicted) learns the active set again; a failed one keeps its own wait.
    if (active > 0) await this.stream.follow();
    log("sweep", { active, rearmed });
    return active;
  }

  override async alarm(): Promise<void> {
    const started = Date.now();
    const symbols = this.active.symbols();
    if (symbols.length === 0) return; // the next activate() restarts the loop
    // Streamed symbols are not polled (once their day's figures came); the rest are.
    const streamed = await this.stream.streamed();
    this.streamedCount = streamed.size;
    const { unquoted, polled } = this.puller.toPoll(symbols, streamed);
    const plan = firstThen(this.budgets.rounds, unquoted, polled, started);
    if (plan.limited !== (this.lastRound?.limited ?? false)) {
      log(plan.limited ? "feed_budget_limited" : "feed_budget_ok", {
        provider: this.feed.id,
        requestsPerMinute: this.budgets.requestsPerMinute,
        active: symbols.length,
        servedPerRound: plan.symbols.length,
      });
    }
    const results = await this.puller.pull(plan.symbols, started);
    this.counts?.round(
      plan.requests,
      plan.limited,
      [...results.values()].map((r) => ("fault" in r ? r.fault : undefined)),
    );
    this.analytics?.write(Date.now(), () => this.counts!.snapshot(this.faults.report()));
    const perMinute = this.budgets.symbolsPerMinute;
    const interval = updateIntervalMs(this.roundIntervalMs, plan.limited, symbols.length, perMinute);
    // Sources answer once the tick is numbered and stored.
    const ingested: Ingested[] = [];
    for (let i = 0; i < symbols.length; i += INGEST_CONCURRENCY) {
      const slice = symbols.slice(i, i + INGEST_CONCURRENCY);
      const each = (s: string) =>
        this.handOver(s, results.get(s), streamed.has(s) ? STREAMED_UPDATE_INTERVAL_MS : interval);
      ingested.push(...(await Promise.all(slice.map(each))));
    }
    const tree = treeShape(this.rounds.send(ingested));
    await this.newSymbols.lookUpTrusted();
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
    const ingested = await handOver(this.env, symbol, result, updateIntervalMs);
    if (!ingested.active) await this.deactivate(symbol);
    else if (ingested.tick) this.puller.last.set(symbol, ingested.tick);
    await this.newSymbols.settle(
      symbol,
      ingested.tick !== undefined,
      result && "fault" in result ? result.fault : undefined,
    );
    return ingested;
  }

  /** Marks a symbol real and stores it, unless the config says so already. */
  private async know(symbol: string): Promise<void> {
    if (knownByConfig(symbol, this.config)) return;
    if (this.book.know(symbol)) await this.ctx.storage.put(`known:${symbol}`, Date.now());
  }
}

/** Storage entries with their key prefix (`active:`, `known:`) taken off. */
function unprefixed<T>(entries: Map<string, T>): Array<[string, T]> {
  return [...entries].map(([key, value]) => [key.slice(key.indexOf(":") + 1), value]);
}
