import { describe, expect, it } from "vitest";
import { RequestBudget } from "../../worker/feeds/budget";

describe("request budget", () => {
  it("serves every symbol when the budget covers them", () => {
    const budget = new RequestBudget(600, 1, 0);
    expect(budget.plan(["A", "B"], 1_000)).toEqual({ symbols: ["A", "B"], requests: 2, limited: false });
  });

  it("never spends more than requestsPerMinute in any minute, and is fair round-robin", () => {
    const rpm = 60;
    const budget = new RequestBudget(rpm, 1, 0);
    const active = ["A", "B", "C", "D", "E"];
    const served = new Map<string, number>();
    const perSecond: number[] = [];
    for (let t = 1_000; t <= 600_000; t += 250) {
      const plan = budget.plan(active, t);
      perSecond.push(plan.requests);
      for (const s of plan.symbols) served.set(s, (served.get(s) ?? 0) + 1);
    }
    // Sliding one-minute windows (240 rounds of 250 ms) never exceed the budget.
    for (let i = 0; i + 240 <= perSecond.length; i++) {
      expect(perSecond.slice(i, i + 240).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(rpm + 1);
    }
    const counts = [...served.values()];
    expect(counts).toHaveLength(5);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it("batches symbols into requests", () => {
    const budget = new RequestBudget(8, 8, 0);
    const active = Array.from({ length: 20 }, (_, i) => `S${i}`);
    const plan = budget.plan(active, 60_000);
    expect(plan.requests).toBeLessThanOrEqual(3);
    expect(plan.symbols.length).toBe(plan.requests === 3 ? 20 : plan.requests * 8);
  });

  it("keeps a reserved request from ordinary plans until it lapses; a priority plan spends it, in its own order", () => {
    const budget = new RequestBudget(60, 1, 0, 0);
    budget.reserve(0, 20_000);
    // One token gathers in a second; the rounds may not spend it, the next one they may.
    expect(budget.plan(["A", "B", "C"], 1_000)).toMatchObject({ symbols: [], requests: 0, limited: true });
    expect(budget.plan(["A", "B", "C"], 2_000).symbols).toEqual(["A"]);
    expect(budget.plan(["X", "Y", "Z"], 2_000, true)).toEqual({ symbols: ["X"], requests: 1, limited: true });
    // Spent: the rounds have the next token again.
    expect(budget.plan(["A", "B", "C"], 3_000).symbols).toEqual(["B"]);
    // An unclaimed reservation lapses.
    budget.reserve(3_000, 2_000);
    expect(budget.plan(["A", "B", "C"], 4_000).requests).toBe(0);
    expect(budget.plan(["A", "B", "C"], 5_000).symbols).toEqual(["C", "A"]);
  });

  it("has no limit for the simulator", () => {
    const budget = new RequestBudget(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0);
    expect(budget.plan(["A", "B", "C"], 1)).toEqual({ symbols: ["A", "B", "C"], requests: 1, limited: false });
  });
});
