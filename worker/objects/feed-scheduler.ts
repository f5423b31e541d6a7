import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config } from "../config";
import type { Env } from "../env";
import { createFeed } from "../feeds";
import { RequestBudget, type RoundPlan } from "../feeds/budget";
import type { FeedProvider, QuoteRequest, QuoteResult } from "../feeds/provider";
import type { Tick } from "../market/tick";
import { log } from "../log";
import { tickerStub } from "./stubs";

export interface FeedStatus {
  provider: string;
  requestsPerMinute: number | null;
  roundIntervalMs: number;
  activeSymbols: number;
  lastRound?: { at: number; served: number; requests: number; limited: boolean };
  /** Symbols whose latest pull failed, with the one-line reason. */
  faults: Record<string, string>;
}

/**
 * The one place that pulls prices. It keeps the registry of symbols with subscribers
 * (their objects register and drop out), and an alarm loop pulls them every
 * TICK_INTERVAL_MS (or the provider's minimum interval) in batches within the provider's request budget; when the budget
 * cannot cover every symbol it serves them round-robin. Each symbol's object gets its
 * result (or nothing, when skipped) and numbers and broadcasts it. The cron trigger
 * re-arms a lost loop.
 */
export class FeedScheduler extends DurableObject<Env> {
  private readonly config: Config;
  private readonly feed: FeedProvider;
  private readonly budget: RequestBudget;
  private readonly requestsPerMinute: number;
  /** TICK_INTERVAL_MS, or the provider's minimum polling period if that is longer. */
  private readonly roundIntervalMs: number;
  /** Each symbol's latest tick, for feeds that evolve prices (the simulator). */
  private readonly last = new Map<string, Tick>();
  private readonly faults = new Map<string, string>();
  private lastRound: FeedStatus["lastRound"];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.feed = createFeed(this.config);
    this.requestsPerMinute = this.config.feed.requestsPerMinute ?? this.feed.capabilities.requestsPerMinute;
    this.budget = new RequestBudget(this.requestsPerMinute, this.feed.capabilities.maxSymbolsPerRequest, Date.now());
    this.roundIntervalMs = Math.max(this.config.tickIntervalMs, this.feed.capabilities.minIntervalMs);
  }

  async activate(symbol: string): Promise<void> {
    if ((await this.ctx.storage.get(`active:${symbol}`)) === undefined) await this.ctx.storage.put(`active:${symbol}`, Date.now());
    // A new symbol's object has just fetched its first quote itself (the snapshot): next round in one interval.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.roundIntervalMs);
  }

  async deactivate(symbol: string): Promise<void> {
    await this.ctx.storage.delete(`active:${symbol}`);
    this.last.delete(symbol);
    this.faults.delete(symbol);
  }

  async activeSymbols(): Promise<string[]> {
    const entries = await this.ctx.storage.list({ prefix: "active:" });
    return [...entries.keys()].map((k) => k.slice("active:".length));
  }

  async status(): Promise<FeedStatus> {
    return {
      provider: this.feed.id,
      requestsPerMinute: Number.isFinite(this.requestsPerMinute) ? this.requestsPerMinute : null,
      roundIntervalMs: this.roundIntervalMs,
      activeSymbols: (await this.activeSymbols()).length,
      lastRound: this.lastRound,
      faults: Object.fromEntries(this.faults),
    };
  }

  /** Cron: re-arms the pull loop if symbols are active but the alarm was lost. Returns how many are active. */
  async sweep(): Promise<number> {
    const active = (await this.activeSymbols()).length;
    let rearmed = false;
    if (active > 0 && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now());
      rearmed = true;
    }
    log("sweep", { active, rearmed });
    return active;
  }

  override async alarm(): Promise<void> {
    const started = Date.now();
    const symbols = await this.activeSymbols();
    if (symbols.length === 0) return; // the next activate() restarts the loop
    const plan = this.budget.plan(symbols, started);
    if (plan.limited !== (this.lastRound?.limited ?? false)) {
      log(plan.limited ? "feed_budget_limited" : "feed_budget_ok", {
        provider: this.feed.id,
        requestsPerMinute: this.requestsPerMinute,
        active: symbols.length,
        servedPerRound: plan.symbols.length,
      });
    }
    const results = await this.pull(plan, started);
    // How often each symbol gets a quote when the budget makes them take turns.
    const perMinute = this.requestsPerMinute * this.feed.capabilities.maxSymbolsPerRequest;
    const updateIntervalMs = Math.max(this.roundIntervalMs, plan.limited ? (symbols.length * 60_000) / perMinute : 0);
    await Promise.all(
      symbols.map(async (symbol) => {
        try {
          const { active, tick } = await tickerStub(this.env, symbol).ingest(results.get(symbol), updateIntervalMs);
          if (!active) await this.deactivate(symbol);
          else if (tick) this.last.set(symbol, tick);
        } catch (err) {
          log("ingest_failed", { symbol, error: String(err) });
        }
      }),
    );
    this.lastRound = { at: started, served: plan.symbols.length, requests: plan.requests, limited: plan.limited };
    await this.ctx.storage.setAlarm(started + this.roundIntervalMs);
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
    return tickerStub(this.env, symbol).latestTick().catch(() => undefined);
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
