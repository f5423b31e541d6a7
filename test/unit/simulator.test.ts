import { describe, expect, it } from "vitest";
import { SimulatorFeed, simulatedStartPrice } from "../../worker/feeds/simulator";
import { nextTick, type Tick } from "../../worker/market/tick";

function path(feed: SimulatorFeed, symbol: string, start: number, steps: number): Tick[] {
  const ticks: Tick[] = [];
  let last: Tick | undefined;
  for (let i = 0; i < steps; i++) {
    const now = start + i * 1000;
    last = nextTick(last, feed.quote({ symbol, last }, now), now);
    ticks.push(last);
  }
  return ticks;
}

describe("SimulatorFeed", () => {
  const regular = Date.UTC(2026, 10, 24, 16); // Tuesday 11:00 New York
  it("is deterministic per seed, symbol and time step", () => {
    const a = path(new SimulatorFeed("s1", 1000), "AAPL", regular, 50).map((t) => t.price);
    const b = path(new SimulatorFeed("s1", 1000), "AAPL", regular, 50).map((t) => t.price);
    const c = path(new SimulatorFeed("s2", 1000), "AAPL", regular, 50).map((t) => t.price);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
  it("starts from plausible prices and moves a little each step", () => {
    expect(simulatedStartPrice("AAPL", "x")).toBeGreaterThan(100);
    expect(simulatedStartPrice("BTC-USD", "x")).toBeGreaterThan(10_000);
    const other = simulatedStartPrice("ZZZZ", "x");
    expect(other).toBeGreaterThanOrEqual(10);
    expect(other).toBeLessThan(500);
    const ticks = path(new SimulatorFeed("s", 1000), "MSFT", regular, 300);
    const moves = ticks.slice(1).map((t, i) => Math.abs(Math.log(t.price / ticks[i]!.price)));
    expect(moves.filter((m) => m > 0).length).toBeGreaterThan(200);
    expect(Math.max(...moves)).toBeLessThan(0.01);
    expect(ticks.every((t) => t.price > 0 && t.bid! < t.ask!)).toBe(true);
  });
  it("is calmer outside market hours, and marks the market state", () => {
    const sat = Date.UTC(2026, 10, 21, 16);
    const vol = (ticks: Tick[]) => {
      const r = ticks.slice(1).map((t, i) => Math.log(t.price / ticks[i]!.price));
      return Math.sqrt(r.reduce((s, x) => s + x * x, 0) / r.length);
    };
    const open = path(new SimulatorFeed("s", 1000), "NVDA", regular, 400);
    const closed = path(new SimulatorFeed("s", 1000), "NVDA", sat, 400);
    expect(vol(closed)).toBeLessThan(vol(open) / 2);
    expect(open[0]!.marketState).toBe("REGULAR");
    expect(closed[0]!.marketState).toBe("CLOSED");
  });
});
