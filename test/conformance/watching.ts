import { type Run, type Viewer, waitFor } from "./harness";

/**
 * What the scenarios share: our and the provider's name for a case symbol, watching a
 * symbol on every viewer (until it has a price and the provider a subscription), waiting
 * until every viewer shows a price, and the polling period the budget allows.
 */

/** Our symbol and the provider's for a base name. */
export function names(run: Run, base: string): { ours: string; theirs: string } {
  const ours = run.profile.symbol(base);
  return { ours, theirs: run.profile.theirs(ours) };
}

/** Every viewer watches `symbols`; waits for each one's first tick (REST or stream) and for the provider's subscription. */
export async function watch(run: Run, symbols: string[], timeoutMs = 10_000): Promise<void> {
  for (const v of run.viewers) for (const s of symbols) v.watch(s);
  const theirs = symbols.map((s) => run.profile.theirs(s));
  const listed = theirs.filter((s) => run.fake.market.known(s) && !run.fake.stream.behaviour.refused.has(s));
  await waitFor(
    () => run.viewers.every((v) => symbols.every((s) => v.of(s).length > 0)),
    (ok) => ok,
    timeoutMs,
  );
  await waitFor(
    () => listed.every((s) => run.fake.stream.subscribed().has(s)),
    (ok) => ok,
    timeoutMs,
  );
}

const showing = (v: Viewer, symbol: string, price: number) => v.latest(symbol)?.price === price;

/** Waits until every viewer's latest price of `symbol` is `price`; when they all did (real ms), or undefined. */
export async function shownEverywhere(
  run: Run,
  symbol: string,
  price: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const ok = await waitFor(
    () => run.viewers.every((v) => showing(v, symbol, price)),
    (x) => x,
    timeoutMs,
  );
  return ok ? Date.now() : undefined;
}

/**
 * One polling period for a symbol: the tick interval, or longer when the budget cannot ask
 * for it that often — the rounds' share (three quarters: a quarter is kept for new symbols)
 * of what one scheduler shard gets (FEED_REQUESTS_PER_MINUTE / SCHEDULER_SHARDS), one
 * request per polled symbol on its shard (`polled`).
 */
export function pollingPeriod(run: Run, polled: number): number {
  const requests = Math.ceil(polled / run.profile.perRequest);
  const perRequestMs = 60_000 / ((run.config.requestsPerMinute / run.config.shards) * 0.75);
  return Math.max(run.config.tickIntervalMs, requests * perRequestMs);
}
