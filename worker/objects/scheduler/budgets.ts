import { RequestBudget, type RoundPlan } from "../../feeds/budget";

/**
 * The share of the request budget kept for first quotes of new symbols: a flood of
 * look-ups (unknown symbols, say) can use it up, but never the rounds of watched symbols.
 */
const COLD_SHARE = 0.25;

export interface ShardBudgets {
  /** The shard's share of the provider's budget (Infinity: no limit). */
  requestsPerMinute: number;
  /** Symbols the rounds may quote a minute: the shard's share less the part kept for new symbols, times the batch size. */
  symbolsPerMinute: number;
  rounds: RequestBudget;
  /** First quotes and histories of new symbols. */
  cold: RequestBudget;
}

/** Splits the provider's budget (`total` per minute) into a shard's rounds and its new symbols' share. Pure. */
export function shardBudgets(total: number, shards: number, batchSize: number, now: number): ShardBudgets {
  const requestsPerMinute = total / shards;
  const coldPerMinute = Math.max(1, requestsPerMinute * COLD_SHARE);
  const roundsPerMinute = Number.isFinite(requestsPerMinute) ? requestsPerMinute - coldPerMinute : requestsPerMinute;
  return {
    requestsPerMinute,
    symbolsPerMinute: roundsPerMinute * batchSize,
    rounds: new RequestBudget(roundsPerMinute, batchSize, now),
    // Its whole minute's worth at once: a page opening with a watchlist of new symbols.
    cold: new RequestBudget(coldPerMinute, 1, now, coldPerMinute),
  };
}

/**
 * How long the rounds keep a request for a catch-up the budget could not cover: longer than the
 * stream waits between asking again (8 s at most), so a catch-up still asking keeps its place.
 */
const CATCH_UP_RESERVE_MS = 20_000;

/**
 * What a catch-up after a stream outage may ask now, in its order: the rounds' share first,
 * ahead of the rounds; the polls during the outage spent it, so what it cannot cover may use
 * the new symbols' share. A catch-up is owed once per outage and the stream asks again for
 * the rest: the rounds keep one request for it meanwhile, or a shard whose polls use its whole
 * share would never catch up, and the day's volume would lose what traded during the outage. Pure.
 */
export function catchUpPlan(budgets: ShardBudgets, symbols: readonly string[], now: number): string[] {
  const plan = budgets.rounds.plan([...symbols], now, true);
  const left = symbols.filter((s) => !plan.symbols.includes(s));
  const cold = left.length > 0 ? budgets.cold.plan(left, now, true).symbols : [];
  if (cold.length < left.length) budgets.rounds.reserve(now, CATCH_UP_RESERVE_MS);
  return [...plan.symbols, ...cold];
}

/** A round's plan with `first` served before the rest (streamed newcomers' one quote: they are few, and then done). */
export function firstThen(
  budget: RequestBudget,
  first: readonly string[],
  rest: readonly string[],
  now: number,
): RoundPlan {
  const a = budget.plan(first, now);
  const b = budget.plan(rest, now);
  return { symbols: [...a.symbols, ...b.symbols], requests: a.requests + b.requests, limited: a.limited || b.limited };
}

/**
 * How often each active symbol gets a quote: every round, or when the budget makes them
 * take turns, as often as the rounds' share covers them all. Pure.
 */
export function updateIntervalMs(roundIntervalMs: number, limited: boolean, active: number, perMinute: number): number {
  return Math.max(roundIntervalMs, limited ? (active * 60_000) / perMinute : 0);
}
