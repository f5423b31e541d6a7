/**
 * Bars by the trades' own time, whatever the order they arrive in (property tests with
 * seeded randomness and a fake clock): derived intervals equal direct builds, the arrival
 * order does not matter within the correction window, and a symbol's bars in its source
 * (its SQLite, its bar stream) survive restarts without a final bar sent twice.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StreamFrame } from "../../worker/broker/stream-frame";
import { readConfig } from "../../worker/config";
import { fault } from "../../worker/feeds/fault";
import {
  aggregate,
  type Bar,
  BarBuilder,
  type BarTick,
  CORRECTION_MS,
  INTERVALS,
  type Interval,
  MINUTE_MS,
} from "../../worker/market/bars";
import { sessionAt } from "../../worker/market/sessions";
import type { FoldedTick } from "../../worker/objects/source/bars";
import { SymbolBars } from "../../worker/objects/source/symbol-bars";
import { memoryBars } from "../support/memory-bars";
import { memorySql } from "../support/memory-sql";
import { prng } from "../support/prng";

/** 2026-12-03 12:00 UTC: a Thursday, two NYSE sessions and an FX day roll ahead. */
const START = Date.parse("2026-12-03T12:00:00Z");

interface Arrival {
  tick: BarTick;
  at: number;
}

/**
 * `count` trades from START on, some sharing a time, most arriving within seconds, some
 * minutes late, a few later than the correction window; in order of arrival.
 */
function trades(seed: number, count: number, lateness: "any" | "within-window", distinct = false): Arrival[] {
  const rnd = prng(seed);
  const out: Arrival[] = [];
  let ts = START;
  let price = 100;
  for (let i = 0; i < count; i++) {
    ts += !distinct && rnd() < 0.1 ? 0 : 1 + Math.floor(-Math.log(1 - rnd()) * 40_000);
    price = Math.max(1, Math.round((price + (rnd() - 0.5)) * 100) / 100);
    const r = rnd();
    const delay =
      r < 0.7
        ? rnd() * 2_000
        : r < 0.95 || lateness === "within-window"
          ? rnd() * 5 * MINUTE_MS
          : CORRECTION_MS + rnd() * 10 * MINUTE_MS;
    out.push({ tick: { ts, price, size: 1 + Math.floor(rnd() * 500) }, at: ts + delay });
  }
  return out
    .map((a, i) => ({ a, i }))
    .sort((x, y) => x.a.at - y.a.at || x.i - y.i)
    .map((x) => x.a);
}

/** Builds `interval` bars directly from the arrivals, the clock closing bars as it goes. */
function direct(symbol: string, interval: Interval, arrivals: readonly Arrival[]): Bar[] {
  const store = memoryBars();
  const builder = new BarBuilder(symbol, interval, store);
  for (const { tick, at } of arrivals) {
    builder.close(at);
    builder.add(tick, at);
  }
  builder.close(Number.POSITIVE_INFINITY);
  return store.all();
}

const SYMBOLS = ["AAPL", "BTC-USD", "EURUSD=X"] as const;

describe("bars by the trades' own time (pure)", () => {
  for (const symbol of SYMBOLS) {
    it(`${symbol}: derived 5m, 15m, 1h and 1d equal direct builds for random arrival orders (seeds 1-8)`, () => {
      for (let seed = 1; seed <= 8; seed++) {
        const arrivals = trades(seed * 7 + symbol.length, 2_500, "any");
        const minutes = direct(symbol, "1m", arrivals);
        expect(minutes.length, `seed ${seed}`).toBeGreaterThan(100);
        for (const interval of INTERVALS.filter((i) => i !== "1m"))
          expect(aggregate(symbol, minutes, interval), `seed ${seed} ${interval}`).toEqual(
            direct(symbol, interval, arrivals),
          );
      }
    });
    it(`${symbol}: within the correction window the arrival order changes nothing (seeds 1-8)`, () => {
      for (let seed = 1; seed <= 8; seed++) {
        const arrivals = trades(seed, 2_000, "within-window", true);
        const inOrder = [...arrivals].sort((a, b) => a.tick.ts - b.tick.ts).map((a) => ({ ...a, at: a.tick.ts }));
        expect(direct(symbol, "1m", arrivals), `seed ${seed}`).toEqual(direct(symbol, "1m", inOrder));
      }
    });
  }
  it("a trade later than the correction window is in no bar, for every interval alike", () => {
    const arrivals = trades(3, 2_000, "any");
    const refused = arrivals.filter((a) => a.at >= (Math.floor(a.tick.ts / MINUTE_MS) + 1) * MINUTE_MS + CORRECTION_MS);
    expect(refused.length).toBeGreaterThan(10);
    const taken = arrivals.filter((a) => !refused.includes(a) && sessionAt("BTC-USD", a.tick.ts));
    const volume = (bars: Bar[]) => bars.reduce((s, b) => s + b.v, 0);
    const sizes = taken.reduce((s, a) => s + a.tick.size!, 0);
    for (const interval of INTERVALS) expect(volume(direct("BTC-USD", interval, arrivals)), interval).toBe(sizes);
  });
});

// ------------------------------------------------------------------ in the source

interface Sent {
  t: number;
  final: boolean;
  correction: boolean;
  bar: Bar;
}

function sentOf(frame: StreamFrame): Sent {
  const body = JSON.parse(frame.tail.slice(frame.tail.indexOf("\n\n") + 2, -1)) as Bar & {
    final: boolean;
    correction?: boolean;
  };
  const { t, o, h, l, c, v, n } = body;
  return { t, final: body.final, correction: body.correction === true, bar: { t, o, h, l, c, v, n } };
}

/** A symbol's bars in a source, on a SQLite that outlives each instance (as a Durable Object's does). */
class Source {
  readonly sql = memorySql();
  readonly sent: Sent[] = [];
  bars!: SymbolBars;
  private latest: FoldedTick | undefined;

  constructor(
    readonly symbol: string,
    private readonly publicDelayMs = 0,
  ) {
    this.start();
  }

  /** A new instance over the same storage (an eviction or a deploy): the old one's timers die with it. */
  restart(): void {
    const now = Date.now();
    vi.clearAllTimers(); // (which also sets the fake clock back to where it started)
    vi.setSystemTime(now);
    this.start();
  }

  fold(tick: FoldedTick): void {
    this.latest = tick;
    this.bars.fold(tick, Date.now());
  }

  /** The stored one-minute bars (a live read of everything). */
  stored(): Bar[] {
    const now = Date.now();
    return this.bars.read("1m", 0, Number.MAX_SAFE_INTEGER, 100_000, now, now).bars;
  }

  private start(): void {
    const config = readConfig({ PUBLIC_DELAY_MS: String(this.publicDelayMs) } as never);
    this.bars = new SymbolBars(this.sql, this.symbol, config, {
      epoch: () => "e",
      latest: () => this.latest as never,
      sendLive: (f) => this.sent.push(sentOf(f)),
      sendDelayed: () => {},
      minuteBars: async () => ({ fault: fault("unsupported", "no history here") }),
      storeGaps: async () => {},
      gaps: [],
    });
    this.bars.watch(true, false);
  }
}

/** Plays arrivals on the fake clock (timers fire as time passes), restarting the source at `restarts`. */
function play(source: Source, arrivals: readonly Arrival[], restarts: ReadonlySet<number> = new Set()): void {
  arrivals.forEach(({ tick, at }, i) => {
    if (at > Date.now()) vi.advanceTimersByTime(at - Date.now());
    if (restarts.has(i)) source.restart();
    source.fold(tick);
  });
  vi.advanceTimersByTime(3 * 3_600_000);
}

describe("a symbol's bars in its source", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(START);
  });
  afterEach(() => vi.useRealTimers());

  for (const symbol of ["BTC-USD", "AAPL"]) {
    it(`${symbol}: random arrivals and restarts: each bar final once, corrections marked, stored bars as built directly`, () => {
      for (let seed = 1; seed <= 4; seed++) {
        vi.setSystemTime(START);
        const arrivals = trades(seed, 1_200, "any");
        const rnd = prng(seed * 31);
        const restarts = new Set(Array.from({ length: 12 }, () => Math.floor(rnd() * arrivals.length)));
        const source = new Source(symbol);
        play(source, arrivals, restarts);
        const built = direct(symbol, "1m", arrivals);
        expect(source.stored(), `seed ${seed}`).toEqual(built);
        const finals = new Map<number, number>();
        for (const s of source.sent.filter((s) => s.final && !s.correction))
          finals.set(s.t, (finals.get(s.t) ?? 0) + 1);
        expect(
          [...finals.values()].every((n) => n === 1),
          `seed ${seed}: a final bar sent twice`,
        ).toBe(true);
        const seen = new Set(source.sent.filter((s) => s.final).map((s) => s.t));
        expect(
          built.every((b) => seen.has(b.t)),
          `seed ${seed}: a bar never sent final`,
        ).toBe(true);
        expect(source.sent.some((s) => s.correction)).toBe(true);
      }
    });
  }

  it("without restarts the newest revision sent of every bar is the stored one", () => {
    const arrivals = trades(5, 1_500, "any");
    const source = new Source("BTC-USD");
    play(source, arrivals);
    const newest = new Map<number, Bar>();
    for (const s of source.sent.filter((s) => s.final)) newest.set(s.t, s.bar);
    expect([...newest.values()].sort((a, b) => a.t - b.t)).toEqual(source.stored());
  });

  it("a restart after a bar went out final does not send it again (with a new position)", () => {
    const source = new Source("BTC-USD");
    source.fold({ ts: START + 1_000, price: 10, size: 1 });
    vi.advanceTimersByTime(2 * MINUTE_MS);
    expect(source.sent.filter((s) => s.final)).toHaveLength(1);
    source.restart();
    vi.advanceTimersByTime(2 * MINUTE_MS);
    source.fold({ ts: Date.now(), price: 11, size: 1 });
    vi.advanceTimersByTime(2 * MINUTE_MS);
    expect(source.sent.filter((s) => s.final).map((s) => s.t)).toEqual([START, START + 4 * MINUTE_MS]);
  });

  it("a delayed reader's day is the session of the newest bar it may see: the first minutes of a session are not empty", () => {
    const DELAY = 15 * MINUTE_MS;
    const friday = Date.parse("2026-12-04T20:58:00Z"); // 15:58 New York, Friday
    const monday = Date.parse("2026-12-07T14:30:00Z"); // 09:30, Monday's open
    vi.setSystemTime(friday);
    const source = new Source("AAPL");
    source.fold({ ts: friday, price: 10, size: 1 });
    source.fold({ ts: friday + MINUTE_MS, price: 11, size: 1 });
    vi.setSystemTime(monday + 5 * MINUTE_MS);
    source.fold({ ts: monday + 5 * MINUTE_MS, price: 12, size: 1 });
    const now = Date.now();
    const live = source.bars.read("1m", 0, Number.MAX_SAFE_INTEGER, 100, now, now);
    expect(live.session?.day).toBe("2026-12-07");
    const delayed = source.bars.read("1m", 0, Number.MAX_SAFE_INTEGER, 100, now, now - DELAY);
    expect(delayed.session?.day).toBe("2026-12-04");
    expect(delayed.bars.filter((b) => b.t >= delayed.session!.open).map((b) => b.c)).toEqual([10, 11]);
  });

  it("a provider-delayed feed's trades form their bars by their own time", () => {
    const DELAY = 900_000;
    const source = new Source("BTC-USD");
    vi.setSystemTime(START + DELAY);
    const sent = (ts: number, price: number) => source.fold({ ts, price, size: 5, delayed: true, delayMs: DELAY });
    for (let k = 0; k < 5; k++) {
      vi.advanceTimersByTime(10_000);
      sent(Date.now() - DELAY, 100 + k);
    }
    // The minute of START is forming on the feed's clock, 15 minutes behind this server's.
    const now = Date.now();
    expect(source.bars.read("1m", 0, Number.MAX_SAFE_INTEGER, 10, now, now)).toMatchObject({
      bars: [{ t: START, o: 100, c: 104, v: 25, n: 5 }],
      forming: START,
    });
    vi.advanceTimersByTime(MINUTE_MS);
    expect(source.sent.filter((s) => s.final).map((s) => s.bar)).toEqual([
      { t: START, o: 100, h: 104, l: 100, c: 104, v: 25, n: 5 },
    ]);
  });
});
