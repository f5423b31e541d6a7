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

  it("knows its universe only: other symbols are unknown until they have a tick; SIM_UNIVERSE=any prices any", async () => {
    const feed = new SimulatorFeed("s", 1000);
    const [known, unknown] = await feed.quotes([{ symbol: "SPY" }, { symbol: "NOTAREALSYM" }], regular);
    expect(known).toMatchObject({ symbol: "SPY", quote: { price: expect.any(Number) } });
    expect(unknown).toEqual({
      symbol: "NOTAREALSYM",
      fault: {
        kind: "unknown-symbol",
        reason: expect.stringMatching(/^NOTAREALSYM is not a symbol the simulator knows/),
      },
    });
    // A published symbol has a last tick: its path continues from it.
    const last = nextTick(undefined, { symbol: "NOTAREALSYM", price: 12.5, ts: regular, source: "publish" }, regular);
    const [continued] = await feed.quotes([{ symbol: "NOTAREALSYM", last }], regular + 1000);
    expect(continued).toMatchObject({ quote: { price: expect.closeTo(12.5, 0) } });
    const [any] = await new SimulatorFeed("s", 1000, true).quotes([{ symbol: "NOTAREALSYM" }], regular);
    expect(any).toMatchObject({ quote: { price: expect.any(Number) } });
  });
  it("keeps enough decimals for sub-dollar crypto and JPY crosses to move", () => {
    const xrp = path(new SimulatorFeed("s", 1000), "XRP-USD", regular, 50);
    expect(new Set(xrp.map((t) => t.price)).size).toBeGreaterThan(30);
    expect(xrp[0]!.price).toBeCloseTo(0.5812, 4);
    const jpy = path(new SimulatorFeed("s", 1000), "USDJPY=X", regular, 5);
    expect(
      jpy.every(
        (t) =>
          Number.isInteger(Math.round(t.price * 1000)) && Math.abs(t.price * 1000 - Math.round(t.price * 1000)) < 1e-6,
      ),
    ).toBe(true);
  });
});
