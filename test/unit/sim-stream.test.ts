import { describe, expect, it } from "vitest";
import { SIM_START_PRICES } from "../../worker/feeds/sim-universe";
import { createStreamCodec } from "../../worker/feeds/stream/providers";
import { RateWindow } from "../../worker/feeds/stream/rate-window";
import { type SimTrade, simTradePrice, simTradeRate, simTrades } from "../../worker/feeds/stream/sim-stream";
import { assetClass } from "../../worker/market/hours";
import { REGULAR } from "../../worker/market/trade-conditions";

describe("simulated trades", () => {
  const seed = "edge-ticker";
  // Wednesday 2026-11-18 15:00 UTC = 10:00 New York (regular hours); 03:00 New York is closed.
  const OPEN = Date.UTC(2026, 10, 18, 15);
  const CLOSED = Date.UTC(2026, 10, 18, 8);

  it("are a pure function of (seed, symbol, time): any cut of a window gives the same trades", () => {
    const whole = simTrades(seed, "AAPL", OPEN, OPEN + 10_000);
    const cut: SimTrade[] = [];
    for (let t = OPEN; t < OPEN + 10_000; t += 37)
      cut.push(...simTrades(seed, "AAPL", t, Math.min(t + 37, OPEN + 10_000)));
    expect(cut).toEqual(whole);
    expect(simTrades("other", "AAPL", OPEN, OPEN + 10_000)).not.toEqual(whole);
    expect(whole.map((t) => t.ts)).toEqual([...whole.map((t) => t.ts)].sort((a, b) => a - b));
  });

  it("a few hot symbols trade tens of times a second, the long tail every few seconds; bursty; calmer when the market is closed", () => {
    const symbols = Object.keys(SIM_START_PRICES).filter((s) => assetClass(s) === "equity");
    const rates = symbols.map((s) => simTradeRate(seed, s));
    const hot = rates.filter((r) => r >= 10).length;
    expect(hot).toBeGreaterThan(0);
    expect(hot).toBeLessThan(symbols.length * 0.2);
    expect(rates.filter((r) => r < 2).length).toBeGreaterThan(symbols.length * 0.7);
    const hottest = symbols[rates.indexOf(Math.max(...rates))]!;
    const open = simTrades(seed, hottest, OPEN, OPEN + 60_000).length / 60;
    const closed = simTrades(seed, hottest, CLOSED, CLOSED + 60_000).length / 60;
    expect(open).toBeGreaterThan(5);
    expect(closed).toBeLessThan(open / 5);
    // Bursty: per-second counts vary far more than a steady rate's would.
    const perSecond = Array.from(
      { length: 60 },
      (_, i) => simTrades(seed, hottest, OPEN + i * 1000, OPEN + (i + 1) * 1000).length,
    );
    expect(Math.max(...perSecond)).toBeGreaterThan(2 * Math.min(...perSecond) + 2);
  });

  it("prices follow from the previous one, stay positive and keep the symbol's decimals", () => {
    let price = 228.5;
    for (const t of simTrades(seed, "AAPL", OPEN, OPEN + 60_000)) {
      const next = simTradePrice(seed, "AAPL", price, t);
      expect(next).toBeGreaterThan(0);
      expect(Math.abs(next / price - 1)).toBeLessThan(0.01);
      expect(Math.round(next * 100) / 100).toBe(next);
      price = next;
    }
  });

  it("the simulator's stream codec carries trades like a provider's", () => {
    const c = createStreamCodec("sim", {})!;
    expect(c.subscribe(["AAPL"])).toEqual(['{"subscribe":["AAPL"]}']);
    expect(c.decode(`{"trades":[["AAPL",228.51,10,${OPEN}]]}`)).toEqual([
      { kind: "trade", symbol: "AAPL", price: 228.51, size: 10, ts: OPEN, rule: REGULAR },
    ]);
    expect(c.decode('{"subscribed":["AAPL"]}')).toEqual([{ kind: "subscribed", symbols: ["AAPL"] }]);
    expect(c.decode('{"heartbeat":1}')).toEqual([{ kind: "heartbeat" }]);
    expect(c.decode('{"trades":[["AAPL",-1,1,1]]}')[0]!.kind).toBe("malformed");
  });
});

describe("rate window", () => {
  it("never more than the limit in any window; room opens as the oldest leaves it", () => {
    const w = new RateWindow(5);
    expect(w.room(0)).toBe(5);
    w.note(5, 0);
    expect(w.room(999)).toBe(0);
    expect(w.nextAt(999)).toBe(1_000);
    expect(w.room(1_000)).toBe(5);
    w.note(3, 1_000);
    w.note(2, 1_500);
    expect(w.room(1_999)).toBe(0);
    expect(w.room(2_000)).toBe(3);
    expect(w.nextAt(2_000)).toBeUndefined();
  });
});
