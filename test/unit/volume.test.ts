import { describe, expect, it } from "vitest";
import { aggregate, BarBuilder, type TimedBar } from "../../worker/market/bars";
import { volumeDay, volumeFigures, withDayVolume } from "../../worker/market/day-volume";
import {
  countedOnce,
  type FigureThrough,
  figureThrough,
  nextTick,
  parseQuoteInput,
  type Quote,
  type Tick,
  withDayFigures,
} from "../../worker/market/tick";

const NY_10 = Date.parse("2026-12-04T15:00:00Z"); // Friday 10:00 New York
const MIN = 60_000;

/** Ticks through nextTick, then one-minute bars from them: what a source does. */
function run(symbol: string, quotes: Array<Omit<Quote, "symbol" | "source">>) {
  let last: Tick | undefined;
  const ticks: Tick[] = [];
  const stored = new Map<number, TimedBar>();
  const builder = new BarBuilder(symbol, "1m", { get: (t) => stored.get(t), put: (b) => void stored.set(b.t, b) });
  const bars = new Map<number, number>();
  for (const q of quotes) {
    last = nextTick(last, { symbol, source: "t", ...q }, q.ts!);
    ticks.push(last);
    const change = builder.add(last, q.ts!);
    if (change.kind === "updated") bars.set(change.bar.t, change.bar.v);
  }
  return { ticks, last: last!, bars };
}

describe("day volume", () => {
  it("a stream's sizes continue the provider's day figure: snapshot 250,000 plus 76,000 streamed", () => {
    const quotes: Array<Omit<Quote, "symbol" | "source">> = [{ price: 190, ts: NY_10, dayVolume: 250_000 }];
    for (let i = 1; i <= 76; i++) quotes.push({ price: 190 + i / 100, ts: NY_10 + i * 1_000, size: 1_000 });
    const { last, bars } = run("AAPL", quotes);
    expect(last.dayVolume).toBe(326_000);
    expect(last.volume).toBe(326_000);
    expect(last.size).toBe(1_000);
    // The bars hold what traded in their minutes, not the day before the symbol was watched.
    expect([...bars.values()].reduce((a, b) => a + b, 0)).toBe(76_000);
  });

  it("a stream → poll → stream hand-over adds no spike: the bars add up to what traded", () => {
    const quotes: Array<Omit<Quote, "symbol" | "source">> = [{ price: 100, ts: NY_10, dayVolume: 50_000_000 }];
    let t = NY_10;
    let truth = 50_000_000;
    let traded = 0;
    const trade = (size: number) => {
      t += 1_000;
      truth += size;
      traded += size;
    };
    for (let i = 0; i < 30; i++) {
      trade(100);
      quotes.push({ price: 100, ts: t, size: 100 }); // streamed
    }
    for (let i = 0; i < 30; i++) {
      trade(50);
      quotes.push({ price: 100, ts: t, dayVolume: truth }); // polled during the outage
    }
    // The catch-up snapshot lags the stream by a second: it must not take back what streamed.
    for (let i = 0; i < 30; i++) {
      trade(200);
      quotes.push({ price: 100, ts: t, size: 200 });
      if (i === 3) quotes.push({ price: 100, ts: t, dayVolume: truth - 200 });
    }
    const { last, bars } = run("AAPL", quotes);
    expect(last.dayVolume).toBe(truth);
    expect([...bars.values()].reduce((a, b) => a + b, 0)).toBe(traded);
    expect(Math.max(...bars.values())).toBeLessThanOrEqual(200 * 60);
  });

  it("a symbol nobody watched for hours does not put the hours' volume into one bar", () => {
    const { ticks, bars } = run("AAPL", [
      { price: 100, ts: NY_10 + 5 * MIN, dayVolume: 1_000_000 },
      { price: 100, ts: NY_10 + 5 * MIN + 1_000, dayVolume: 1_000_500 },
      { price: 101, ts: NY_10 + 4 * 60 * MIN, dayVolume: 9_000_000 },
      { price: 101, ts: NY_10 + 4 * 60 * MIN + 1_000, dayVolume: 9_000_300 },
    ]);
    expect(ticks.map((t) => t.size)).toEqual([0, 500, 0, 300]);
    expect(ticks.at(-1)!.dayVolume).toBe(9_000_300);
    expect(bars.get(NY_10 + 4 * 60 * MIN)).toBe(300);
  });

  it("a stream's tick with a day figure beyond its running total: the trades nobody streamed are traded in it", () => {
    // The catch-up after an outage: the window streamed 300, the REST figure says 1,800 more than counted.
    expect(
      volumeFigures("AAPL", { ts: NY_10, dayVolume: 10_000 }, { size: 300, dayVolume: 12_100 }, NY_10 + 5_000),
    ).toEqual({
      size: 2_100,
      dayVolume: 12_100,
    });
    // A figure behind the stream takes nothing back.
    expect(
      volumeFigures("AAPL", { ts: NY_10, dayVolume: 10_000 }, { size: 300, dayVolume: 10_100 }, NY_10 + 5_000),
    ).toEqual({
      size: 300,
      dayVolume: 10_300,
    });
  });

  it("a slow poll attributes its growth within two polling periods", () => {
    const figures = volumeFigures("AAPL", { ts: NY_10, dayVolume: 100 }, { dayVolume: 900 }, NY_10 + 5 * MIN, 10 * MIN);
    expect(figures).toEqual({ size: 800, dayVolume: 900 });
    expect(volumeFigures("AAPL", { ts: NY_10, dayVolume: 100 }, { dayVolume: 900 }, NY_10 + 5 * MIN)).toEqual({
      size: 0,
      dayVolume: 900,
    });
  });

  it("streamed sizes without a day figure make no day volume (never a partial sum shown as the day's)", () => {
    const { last } = run("AAPL", [
      { price: 100, ts: NY_10, size: 300 },
      { price: 100, ts: NY_10 + 1_000, size: 100 },
    ]);
    expect(last.dayVolume).toBeUndefined();
    expect(last.volume).toBeUndefined();
    expect(last.size).toBe(100);
  });

  it("resets at the session's start on the symbol's market: New York date, UTC date, FX at 17:00", () => {
    expect(volumeDay("AAPL", Date.parse("2026-12-04T04:59:00Z"))).toBe("2026-12-03");
    expect(volumeDay("AAPL", Date.parse("2026-12-04T05:00:00Z"))).toBe("2026-12-04");
    expect(volumeDay("BTC-USD", Date.parse("2026-12-04T23:59:59Z"))).toBe("2026-12-04");
    expect(volumeDay("BTC-USD", Date.parse("2026-12-05T00:00:00Z"))).toBe("2026-12-05");
    expect(volumeDay("EURUSD=X", Date.parse("2026-12-03T21:59:00Z"))).toBe("2026-12-03");
    expect(volumeDay("EURUSD=X", Date.parse("2026-12-03T22:00:00Z"))).toBe("2026-12-04");
    // Crypto watched across UTC midnight: the new day counts from its first trade.
    const before = Date.parse("2026-12-04T23:59:59Z");
    const { ticks } = run("BTC-USD", [
      { price: 1, ts: before, dayVolume: 5_000 },
      { price: 1, ts: before + 500, size: 2 },
      { price: 1, ts: before + 1_500, size: 3 },
      { price: 1, ts: before + 2_500, size: 4 },
    ]);
    expect(ticks.map((t) => t.dayVolume)).toEqual([5_000, 5_002, 3, 7]);
  });

  it("a rolling 24-hour figure is passed through as volume24h, never a day volume", () => {
    const { last } = run("BTC-USD", [{ price: 20_000, ts: NY_10, volume24h: 12_345 }]);
    expect(last.volume24h).toBe(12_345);
    expect(last.dayVolume).toBeUndefined();
  });

  it("the current day bar carries the day's volume; earlier days keep their bars' sum", () => {
    const bars = [
      { t: Date.parse("2026-12-03T14:30:00Z"), o: 1, h: 1, l: 1, c: 1, v: 10, n: 1 },
      { t: Date.parse("2026-12-04T14:30:00Z"), o: 1, h: 1, l: 1, c: 1, v: 20, n: 1 },
    ];
    expect(withDayVolume("AAPL", bars, { ts: NY_10, dayVolume: 500 }).map((b) => b.v)).toEqual([10, 500]);
    expect(withDayVolume("AAPL", bars, { ts: NY_10 + 86_400_000, dayVolume: 500 }).map((b) => b.v)).toEqual([10, 20]);
    expect(withDayVolume("AAPL", bars, { ts: NY_10 }).map((b) => b.v)).toEqual([10, 20]);
    expect(aggregate("AAPL", [], "1d")).toEqual([]);
  });
});

describe("an out-of-order feed quote", () => {
  it("moves no price but brings the day's figures the stream's first trade did not know", () => {
    const first = nextTick(
      undefined,
      { symbol: "AAPL", source: "alpaca", price: 190.5, ts: NY_10 + 300, size: 10 },
      NY_10,
    );
    expect(first.prevClose).toBe(190.5);
    const rest: Quote = {
      symbol: "AAPL",
      source: "alpaca",
      price: 190,
      ts: NY_10,
      prevClose: 188,
      open: 189,
      high: 191,
      low: 187.5,
      dayVolume: 250_000,
    };
    const figures = withDayFigures(first, rest)!;
    const next = nextTick(first, figures, NY_10 + 400);
    expect(next).toMatchObject({ price: 190.5, ts: NY_10 + 300, prevClose: 188, open: 189, high: 191, low: 187.5 });
    expect(next.dayVolume).toBe(250_000);
    expect(next.size).toBe(0);
    expect(next.change).toBe(2.5);
    // Nothing new: no tick.
    expect(withDayFigures(next, rest)).toBeUndefined();
    // A gap mark is news: the newest price again, marked.
    expect(withDayFigures(next, { ...rest, gap: true })).toMatchObject({ price: 190.5, ts: NY_10 + 300, gap: true });
  });
});

describe("a poll crossing the stream", () => {
  it("counts a streamed trade once when the poll's day figure already had it (same trade time), and later ones as streamed", () => {
    const T = NY_10;
    let figure: FigureThrough | undefined;
    let last: Tick | undefined;
    const take = (q: Omit<Quote, "symbol">) => {
      const quote = countedOnce({ symbol: "AAPL", ...q }, figure);
      last = nextTick(last, quote, q.ts!);
      figure = figureThrough({ ...quote, ts: q.ts! }) ?? figure;
      return last;
    };
    take({ source: "alpaca", price: 190, ts: T, size: 100, dayVolume: 10_100 });
    // The poll saw the 600-share trade at T + 1 s before the stream brought it.
    expect(take({ source: "alpaca", price: 191, ts: T + 1_000, dayVolume: 10_700 })).toMatchObject({ size: 600 });
    expect(take({ source: "alpaca", price: 191, ts: T + 1_000, size: 600 })).toMatchObject({
      size: 0,
      dayVolume: 10_700,
    });
    expect(take({ source: "alpaca", price: 192, ts: T + 1_200, size: 700 })).toMatchObject({
      size: 700,
      dayVolume: 11_400,
    });
    // Another source's trades are not in that figure.
    expect(countedOnce({ symbol: "AAPL", source: "pub", price: 1, ts: T, size: 5 }, figure).size).toBe(5);
  });
});

describe("a published tick's volume fields", () => {
  it("volume stays the day's cumulative volume (compatible); size, dayVolume and volume24h are accepted", () => {
    expect(parseQuoteInput({ price: 1, volume: 500 }, "AAPL")).toMatchObject({ volume: 500 });
    expect(parseQuoteInput({ price: 1, size: 5, dayVolume: 505, volume24h: 9 }, "AAPL")).toMatchObject({
      size: 5,
      dayVolume: 505,
      volume24h: 9,
    });
    expect(() => parseQuoteInput({ price: 1, size: -1 }, "AAPL")).toThrow(/size must be/);
    const first = nextTick(undefined, parseQuoteInput({ price: 1, volume: 500, ts: NY_10 }, "AAPL"), NY_10);
    const next = nextTick(first, parseQuoteInput({ price: 1, volume: 520, ts: NY_10 + 1_000 }, "AAPL"), NY_10);
    expect([first.dayVolume, next.dayVolume, next.size, next.volume]).toEqual([500, 520, 20, 520]);
  });
});
