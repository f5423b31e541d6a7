import { CASE_SYMBOLS } from "../fixtures/sessions";
import { sleep } from "../support/stomp";
import { type Arrival, dayVolumeOf, minuteBars, type Run, waitFor } from "./harness";
import { names, shownEverywhere, watch } from "./watching";

/**
 * The cases where the provider misbehaves or is unusual: an outage (gap marks, bars across
 * the hand-over), a delayed feed, a storm of dropped connections.
 */
const MINUTE = 60_000;

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
  /** What the first viewer saw of BARS: the sizes its ticks carried, summed, and its last day volume, against the day's. */
  seen: { sizes: number; dayVolume: number | undefined; truth: number; traded: number };
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
  // They trade first: streamed symbols by any definition (a quiet one may be polled, and then has no outage).
  for (const [j, g] of gapSymbols.entries()) {
    const price = Math.round((m.last(g.theirs).price + 0.5) * 100) / 100;
    m.trade(g.theirs, price, run.profile.size(j));
    await shownEverywhere(run, g.ours, price, 5_000);
  }
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
  // The catch-up brings what traded unseen into the day volume once the request budget has
  // room (the polls during the outage may have spent it): the first viewer's day volume then
  // holds every trade up to its tick's time. Finnhub reports no volume to catch up with.
  if (run.profile.reportsVolume) {
    const unseen = (t: Arrival["tick"] | undefined) =>
      t === undefined
        ? Number.POSITIVE_INFINITY
        : m.dayVolume(bars.theirs) -
          m.trades(bars.theirs).reduce((n, x) => n + (x.ts > t.ts ? x.size : 0), 0) -
          (dayVolumeOf(t) ?? 0);
    await waitFor(
      () => unseen(run.viewers[0]!.latest(bars.ours)),
      (u) => u < tradedDuringOutage / 2,
      30_000,
    );
  }
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
  const ticks = run.viewers[0]!.of(bars.ours).map((a) => a.tick);
  return {
    gaps,
    bars: minutes.map((t) => ({ t, v: barOf.get(t), truth: truth.get(t) ?? 0 })),
    tradedDuringOutage,
    seen: {
      sizes: ticks.reduce((n, t) => n + (t.size ?? 0), 0),
      dayVolume: dayVolumeOf(ticks.at(-1)),
      truth: m.dayVolume(bars.theirs),
      traded: [...truth.values()].reduce((a, b) => a + b, 0),
    },
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

/**
 * Every connection authenticates and is dropped 200 ms later, for STORM_MS: backoff from 1 s
 * doubling makes at most 5 attempts in it (unit-tested over 30 s: at most 8), reconnecting
 * on every drop about 50.
 */
export const STORM_MS = 15_000;

export async function storm(run: Run): Promise<Storm> {
  const stream = run.fake.stream;
  stream.behaviour.mode = "drop-after-auth";
  const from = Date.now();
  stream.closeAll("terminate");
  await sleep(STORM_MS);
  const attempts = stream.truth.attempts.filter((a) => a.at >= from && a.at < from + STORM_MS).length;
  stream.behaviour.mode = "normal";
  return { attempts, windowMs: STORM_MS };
}
