import type { TradeKind } from "../fixtures/providers/conditions";
import { CASE_SYMBOLS, LAST_ELIGIBLE_SESSION } from "../fixtures/sessions";
import { sleep } from "../support/stomp";
import { dayVolumeOf, quotes, type Run, waitFor } from "./harness";
import { names, pollingPeriod, shownEverywhere, watch } from "./watching";

/**
 * The cases that run while the provider behaves: first prices of new symbols, the day
 * volume, prints that must not set the last price, refused and silent symbols. Scenarios
 * never throw: they record what happened (or that nothing did in time), and the cases judge it.
 */

// ---------------------------------------------------------------- first price

export interface FirstPrice {
  symbols: number;
  subscribedUpstream: number;
  /** Per viewer and symbol: ms from the symbol's first trade until the viewer had a price (0 if before), or null if never. */
  lags: Array<{ symbol: string; viewer: number; lagMs: number | null }>;
}

/** `count` new symbols at once (with the ones already watched, 50 streamed: Finnhub's whole allowance). */
export async function firstPrice(run: Run, count: number): Promise<FirstPrice> {
  const symbols = CASE_SYMBOLS.firstPrice.slice(0, count).map((b) => names(run, b));
  // The case's viewers leave by disconnecting (unsubscribing 50 symbols at once would trip the inbound limits).
  const viewers = run.viewers;
  for (const v of viewers) for (const s of symbols) v.watch(s.ours);
  await waitFor(
    () => symbols.filter((s) => run.fake.stream.subscribed().has(s.theirs)).length,
    (n) => n === symbols.length,
    10_000,
  );
  const subscribedUpstream = symbols.filter((s) => run.fake.stream.subscribed().has(s.theirs)).length;
  const firstTradeAt = new Map<string, number>();
  for (const [i, s] of symbols.entries()) {
    const price = run.fake.market.before(s.theirs).last + 0.37;
    run.fake.market.trade(s.theirs, Math.round(price * 100) / 100, run.profile.size(i));
    firstTradeAt.set(s.ours, Date.now());
    await sleep(60);
  }
  const lastTrade = Math.max(...firstTradeAt.values());
  await waitFor(
    () => viewers.every((v) => symbols.every((s) => v.of(s.ours).length > 0)),
    (ok) => ok,
    Math.max(0, lastTrade + 2_500 - Date.now()),
  );
  const lags = viewers.flatMap((v, viewer) =>
    symbols.map((s) => {
      const first = v.of(s.ours)[0];
      const lag = first ? Math.max(0, first.at - firstTradeAt.get(s.ours)!) : null;
      return { symbol: s.ours, viewer, lagMs: lag };
    }),
  );
  for (const v of viewers) await v.disconnect();
  // Room for the next cases' symbols (Finnhub allows 50 a connection): the worker unsubscribes a second after the last viewer.
  await waitFor(
    () => symbols.some((s) => run.fake.stream.subscribed().has(s.theirs)),
    (any) => !any,
    5_000,
  );
  return { symbols: symbols.length, subscribedUpstream, lags };
}

// ---------------------------------------------------------------- day volume

export interface DayVolume {
  /** Index of the first trade made while the viewers watched. */
  from: number;
  /** Of those, the trades the fake delivered over the stream (0: the symbol was only polled). */
  delivered: number;
  truth: number;
  /** Sizes streamed since the viewers came (what the worker could count itself). */
  streamed: number;
  viewers: Array<number | undefined>;
  api: number | undefined;
  lastPriceShown: boolean;
}

/** Streams 20 trades on VOLA (Coinbase: 5 of them before anyone watches, replayed on subscribe) and reads the day volume back. */
export async function dayVolume(run: Run): Promise<DayVolume> {
  const { ours, theirs } = names(run, CASE_SYMBOLS.dayVolume);
  const m = run.fake.market;
  let price = m.before(theirs).last;
  const trade = (i: number, kind: TradeKind = "regular") => {
    price = Math.round((price + 0.01 * ((i % 5) - 1.5)) * 100) / 100;
    m.trade(theirs, price, run.profile.size(i), kind);
  };
  if (run.profile.provider === "coinbase") for (let i = 0; i < 5; i++) trade(i);
  await watch(run, [ours]);
  const from = m.trades(theirs).length;
  for (let i = 5; i < 25; i++) {
    trade(i, i === 12 && run.profile.symbol("X") === "X" ? "odd-lot" : "regular");
    await sleep(100);
  }
  const lastPrice = m.last(theirs).price;
  const shown = (await shownEverywhere(run, ours, lastPrice, 5_000)) !== undefined;
  await sleep(1_500);
  // A streamed symbol's day figures come with its first REST quote, which waits for the request
  // budget (the first-price phase may have spent the new symbols' share): up to 20 s more.
  // Finnhub reports no volume to wait for.
  if (run.profile.reportsVolume)
    await waitFor(
      () => run.viewers.map((v) => dayVolumeOf(v.latest(ours))),
      (seen) => seen.every((x) => x !== undefined && x >= m.dayVolume(theirs) * 0.99),
      20_000,
    );
  return readDayVolume(run, ours, theirs, from, shown);
}

async function readDayVolume(run: Run, ours: string, theirs: string, from: number, shown: boolean): Promise<DayVolume> {
  const m = run.fake.market;
  const [q] = await quotes(run, [ours]);
  const ids = new Set(
    m
      .trades(theirs)
      .slice(from)
      .map((t) => t.id),
  );
  return {
    from,
    delivered: new Set(run.fake.stream.truth.delivered.filter((d) => ids.has(d.trade.id)).map((d) => d.trade.id)).size,
    truth: m.dayVolume(theirs),
    streamed: m
      .trades(theirs)
      .slice(from)
      .reduce((n, t) => n + t.size, 0),
    viewers: run.viewers.map((v) => dayVolumeOf(v.latest(ours))),
    api: dayVolumeOf(q),
    lastPriceShown: shown,
  };
}

/** After the outage: one more VOLA trade, then the day volume again. */
export async function dayVolumeAfterOutage(run: Run, streamedFrom: number): Promise<DayVolume> {
  const { ours, theirs } = names(run, CASE_SYMBOLS.dayVolume);
  const m = run.fake.market;
  const price = Math.round((m.last(theirs).price + 0.07) * 100) / 100;
  m.trade(theirs, price, run.profile.size(3));
  const shown = (await shownEverywhere(run, ours, price, 10_000)) !== undefined;
  await sleep(1_500);
  return readDayVolume(run, ours, theirs, streamedFrom, shown);
}

// ---------------------------------------------------------------- last-eligible prints

export interface LastEligible {
  regular: number;
  ineligible: number[];
  /** The regular print after them (it must show: everything before it went through). */
  closing: number;
  regularShown: boolean;
  closingShown: boolean;
  /** The ineligible prints the fake delivered over the stream (0: the symbol was only polled). */
  delivered: number;
  /** Prices the viewers showed after the regular print. */
  shownAfter: number[];
  api: number | undefined;
}

/** The scripted session LAST_ELIGIBLE_SESSION: a regular print, then three that must not set the last price. */
export async function lastEligible(run: Run): Promise<LastEligible> {
  const { ours, theirs } = names(run, CASE_SYMBOLS.lastEligible);
  const m = run.fake.market;
  await watch(run, [ours]);
  const { regular, ineligible, closing } = LAST_ELIGIBLE_SESSION;
  m.trade(theirs, regular.price, regular.size, regular.kind);
  const regularShown = (await shownEverywhere(run, ours, regular.price, 5_000)) !== undefined;
  const marks = run.viewers.map((v) => v.of(ours).length);
  const ids = new Set<number>();
  for (const t of ineligible) {
    ids.add(m.trade(theirs, t.price, t.size, t.kind).id);
    await sleep(100);
  }
  // Long enough for the stream's windows and two polling rounds (a REST snapshot reports the newest print too).
  await sleep(3_000);
  const [q] = await quotes(run, [ours]);
  m.trade(theirs, closing.price, closing.size, closing.kind);
  const closingShown = (await shownEverywhere(run, ours, closing.price, 5_000)) !== undefined;
  return {
    regular: regular.price,
    ineligible: ineligible.map((t) => t.price),
    closing: closing.price,
    regularShown,
    closingShown,
    delivered: new Set(run.fake.stream.truth.delivered.filter((d) => ids.has(d.trade.id)).map((d) => d.trade.id)).size,
    shownAfter: run.viewers.flatMap((v, i) =>
      v
        .of(ours)
        .slice(marks[i])
        .map((a) => a.tick.price),
    ),
    api: q?.price,
  };
}

// ---------------------------------------------------------------- refused and silent symbols

export interface Polled {
  /** Two polling periods (ms), from the config. */
  budgetMs: number;
  /** For each REST-visible price change: ms until every viewer showed it, or null. */
  lags: Array<number | null>;
}

/** The fake refuses (`refused`) or acknowledges and never streams (`silent`) a symbol; its price moves on REST only. */
export async function polled(run: Run, base: string, how: "refused" | "silent"): Promise<Polled> {
  const { ours, theirs } = names(run, base);
  const m = run.fake.market;
  run.fake.stream.behaviour[how].add(theirs);
  const period = pollingPeriod(run, 1);
  await watch(run, [ours]);
  await sleep(Math.max(3_000, period));
  const lags: Array<number | null> = [];
  for (let i = 0; i < 2; i++) {
    const price = Math.round((m.last(theirs).price + 0.11) * 100) / 100;
    m.trade(theirs, price, run.profile.size(i));
    const changedAt = Date.now();
    const at = await shownEverywhere(run, ours, price, 2 * period + 3_000);
    lags.push(at === undefined ? null : at - changedAt);
  }
  return { budgetMs: 2 * period, lags };
}
