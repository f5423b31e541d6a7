import type { TradeKind } from "../fixtures/providers/conditions";
import { CASE_SYMBOLS, LAST_ELIGIBLE_SESSION } from "../fixtures/sessions";
import { connectStomp, sleep } from "../support/stomp";
import { type Arrival, dayVolumeOf, minuteBars, quotes, type Run, Viewer, waitFor } from "./harness";

/**
 * What each case does to the fake and the viewers, and what it saw. Scenarios never throw:
 * they record what happened (or that nothing did in time), and the cases judge it.
 */
const MINUTE = 60_000;

/** Our symbol and the provider's for a base name. */
export function names(run: Run, base: string): { ours: string; theirs: string } {
  const ours = run.profile.symbol(base);
  return { ours, theirs: run.profile.theirs(ours) };
}

/** Every viewer watches `symbols`; waits for each one's first tick (REST or stream) and for the provider's subscription. */
async function watch(run: Run, symbols: string[], timeoutMs = 10_000): Promise<void> {
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
async function shownEverywhere(
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
  // Viewers of their own, who leave by disconnecting (unsubscribing 50 symbols at once would trip the inbound limits).
  const viewers = await Promise.all(run.viewers.map(async () => new Viewer(await connectStomp(run.srv.url))));
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
  for (const v of viewers) await v.connection.disconnect();
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

// ---------------------------------------------------------------- outage: gap marks and bars across the hand-over

export interface BarsTrading {
  /** Stops trading; resolves once the last trade is out. */
  stop(): Promise<void>;
}

/**
 * BARS trades four times a second from the start of the run to the end of the outage: its
 * bars then span at least one minute boundary and the hand-over, whenever they happen.
 */
export async function startBarsTrading(run: Run): Promise<BarsTrading> {
  const { ours, theirs } = names(run, CASE_SYMBOLS.bars);
  const m = run.fake.market;
  await watch(run, [ours]);
  let trading = true;
  let price = m.before(theirs).last;
  const loop = (async () => {
    for (let i = 0; trading; i++) {
      price = Math.round((price + 0.01 * ((i % 7) - 3)) * 100) / 100;
      m.trade(theirs, price, run.profile.size(i));
      await sleep(250);
    }
  })();
  return {
    stop: async () => {
      trading = false;
      await loop;
    },
  };
}

export interface Outage {
  /** Per symbol: gap-marked ticks each viewer got after the outage began, and their prices. */
  gaps: Array<{ symbol: string; caughtUp: number | undefined; perViewer: number[][] }>;
  /** The bars symbol's 1-minute bars against the sizes traded in each minute (fake trades only). */
  bars: Array<{ t: number; v: number | undefined; truth: number }>;
  /** Sizes of BARS traded while the stream was down. */
  tradedDuringOutage: number;
  reconnected: boolean;
  outageMs: number;
}

/**
 * The provider goes away (every connection dropped, upgrades refused) for about 7 s while
 * GAPA and GAPB trade once each (their caught-up prices) and BARS keeps trading; then it
 * comes back. Then BARS' bars are read.
 */
export async function outage(run: Run, barsTrading: BarsTrading | undefined): Promise<Outage> {
  const m = run.fake.market;
  const stream = run.fake.stream;
  const bars = names(run, CASE_SYMBOLS.bars);
  const gapSymbols = CASE_SYMBOLS.gaps.map((b) => names(run, b));
  await watch(
    run,
    gapSymbols.map((g) => g.ours),
  );
  const before = m.dayVolume(bars.theirs);
  const connectionsBefore = stream.truth.connections.length;
  const began = Date.now();
  const marks = run.viewers.map((v) => new Map(gapSymbols.map((g) => [g.ours, v.of(g.ours).length])));
  const barsMarks = run.viewers.map((v) => v.of(bars.ours).length);
  stream.behaviour.mode = "refuse-upgrade";
  stream.closeAll("terminate");
  await sleep(1_000);
  for (const [j, g] of gapSymbols.entries()) {
    m.trade(g.theirs, Math.round((m.last(g.theirs).price + 1.23 + j) * 100) / 100, run.profile.size(j));
    await sleep(1_000);
  }
  await sleep(4_000);
  const tradedDuringOutage = m.dayVolume(bars.theirs) - before;
  stream.behaviour.mode = "normal";
  const outageMs = Date.now() - began;
  const reconnected =
    (await waitFor(
      () => stream.truth.connections.length > connectionsBefore && stream.subscribed().has(bars.theirs),
      (ok) => ok,
      30_000,
    )) === true;
  await waitFor(
    () =>
      run.viewers.every((v, n) =>
        gapSymbols.every((g) =>
          v
            .of(g.ours)
            .slice(marks[n]!.get(g.ours))
            .some((a) => a.tick.gap),
        ),
      ),
    (ok) => ok,
    15_000,
  );
  // A few more seconds of trading on the stream, then the bars.
  await sleep(4_000);
  await barsTrading?.stop();
  await sleep(2_000);
  const gapped = (arrivals: Arrival[]) => arrivals.filter((a) => a.tick.gap).map((a) => a.tick.price);
  const gaps = [
    ...gapSymbols.map((g) => ({
      symbol: g.ours,
      caughtUp: m.last(g.theirs).price as number | undefined,
      perViewer: run.viewers.map((v, n) => gapped(v.of(g.ours).slice(marks[n]!.get(g.ours)))),
    })),
    {
      symbol: bars.ours,
      caughtUp: undefined,
      perViewer: run.viewers.map((v, n) => gapped(v.of(bars.ours).slice(barsMarks[n]))),
    },
  ];
  const truth = m.minuteVolumes(bars.theirs);
  const first = Math.min(...truth.keys());
  const served = await minuteBars(run, bars.ours, first);
  const barOf = new Map(served.map((b) => [b.t, b.v]));
  const minutes = [...new Set([...truth.keys(), ...served.filter((b) => b.t >= first).map((b) => b.t)])].sort(
    (a, b) => a - b,
  );
  return {
    gaps,
    bars: minutes.map((t) => ({ t, v: barOf.get(t), truth: truth.get(t) ?? 0 })),
    tradedDuringOutage,
    reconnected,
    outageMs,
  };
}

// ---------------------------------------------------------------- delayed feed

export interface DelayedBars {
  bars: Array<{ t: number; v: number | undefined; truth: number }>;
  stampedMinutesAgo: number;
}

/** Ten trades on the delayed feed (stamped 15 minutes early); their minutes' bars. */
export async function delayedBars(run: Run): Promise<DelayedBars> {
  const { ours, theirs } = names(run, CASE_SYMBOLS.delayed);
  const m = run.fake.market;
  await watch(run, [ours]);
  let price = m.before(theirs).last;
  for (let i = 0; i < 10; i++) {
    price = Math.round((price + 0.02) * 100) / 100;
    m.trade(theirs, price, run.profile.size(i));
    await sleep(200);
  }
  await shownEverywhere(run, ours, price, 5_000);
  await sleep(1_500);
  const truth = m.minuteVolumes(theirs);
  const first = Math.min(...truth.keys());
  const served = await minuteBars(run, ours, first);
  const barOf = new Map(served.map((b) => [b.t, b.v]));
  return {
    bars: [...truth.entries()].map(([t, v]) => ({ t, v: barOf.get(t), truth: v })),
    stampedMinutesAgo: Math.round((run.clock.now() - Math.max(...truth.keys())) / MINUTE),
  };
}

// ---------------------------------------------------------------- connections

export interface Storm {
  attempts: number;
  windowMs: number;
}

/** Every connection authenticates and is dropped 200 ms later, for 30 s. */
export async function storm(run: Run): Promise<Storm> {
  const stream = run.fake.stream;
  stream.behaviour.mode = "drop-after-auth";
  const from = Date.now();
  stream.closeAll("terminate");
  await sleep(30_000);
  const attempts = stream.truth.attempts.filter((a) => a.at >= from && a.at < from + 30_000).length;
  stream.behaviour.mode = "normal";
  return { attempts, windowMs: 30_000 };
}
