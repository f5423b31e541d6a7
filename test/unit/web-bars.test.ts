import { describe, expect, it } from "vitest";
import { LiveCandles } from "../../web/src/lib/bars";
import type { Tick } from "../../web/src/lib/tick";
import { sparkline } from "../../web/src/widget/sparkline";

const T0 = Date.parse("2026-12-04T15:00:00Z");
const tick = (ts: number, price: number, extra: Partial<Tick> = {}): Tick =>
  ({
    symbol: "BTC-USD",
    price,
    ts,
    seq: 1,
    change: 0,
    changePercent: 0,
    source: "sim",
    marketState: "REGULAR",
    ...extra,
  }) as Tick;

describe("the page's live candles", () => {
  it("moves the last candle within its bucket and starts the next one after it", () => {
    const c = new LiveCandles(60_000);
    c.reset([{ t: T0, o: 10, h: 11, l: 9, c: 10, v: 100, n: 5 }], 4);
    // The tick the bars were read with is in them already: its size counts once.
    expect(c.add(tick(T0 + 20_000, 10, { seq: 4, size: 7 }))).toBe("moved");
    expect(c.add(tick(T0 + 30_000, 12, { seq: 5, size: 50 }))).toBe("moved");
    expect(c.bars.at(-1)).toEqual({ t: T0, o: 10, h: 12, l: 9, c: 12, v: 150, n: 7 });
    expect(c.add(tick(T0 + 60_000, 11, { seq: 6, size: 10 }))).toBe("added");
    expect(c.bars.at(-1)).toEqual({ t: T0 + 60_000, o: 11, h: 11, l: 11, c: 11, v: 10, n: 1 });
  });
  it("ignores ticks of a closed market, stale re-sends and ticks older than the last candle", () => {
    const c = new LiveCandles(300_000);
    c.reset([{ t: T0, o: 10, h: 10, l: 10, c: 10, v: 0, n: 1 }]);
    expect(c.add(tick(T0 + 1_000, 20, { marketState: "CLOSED" }))).toBeUndefined();
    expect(c.add(tick(T0 + 1_000, 20, { stale: true }))).toBeUndefined();
    expect(c.add(tick(T0 - 1, 20))).toBeUndefined();
    expect(c.bars).toEqual([{ t: T0, o: 10, h: 10, l: 10, c: 10, v: 0, n: 1 }]);
  });
});

describe("the widget's sparkline", () => {
  it("puts the previous close on the same scale as the day's line", () => {
    const { points, ref } = sparkline([10, 12, 11], 8);
    expect(points).toBe("0.0,14.0 50.0,2.0 100.0,8.0");
    expect(ref).toBe("26.0");
    expect(sparkline([10, 12]).ref).toBeUndefined();
    expect(sparkline([10]).points).toBe("");
  });
});
