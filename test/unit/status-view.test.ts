import { describe, expect, it } from "vitest";
import { age, messageRates, quantile, type StatusView, seconds } from "../../web/src/status/view";

const view = (at: number, hubs: Array<[string, number]>): StatusView => ({
  at,
  hubs: hubs.map(([object, transportMessages]) => ({
    object,
    up: true,
    connections: 1,
    sessions: 1,
    subscriptions: 1,
    transportMessages,
    frames: 0,
    byTransport: {},
  })),
  symbols: [],
  feed: [],
  upstreams: [],
  faults: [],
  lag: { bounds: [], cumulative: [], count: 0, sum: 0 },
  incidents: {},
});

describe("status page figures", () => {
  it("estimates quantiles from cumulative buckets as histogram_quantile does", () => {
    const bounds = [0.01, 0.1, 1];
    expect(quantile(0.5, bounds, [0, 0, 0], 0)).toBeUndefined();
    expect(quantile(0.5, bounds, [10, 10, 10], 10)).toBeCloseTo(0.005);
    expect(quantile(0.5, bounds, [0, 10, 10], 10)).toBeCloseTo(0.055);
    expect(quantile(0.95, bounds, [5, 5, 5], 10)).toBe(1); // above every bucket: the last bound
  });

  it("gives messages per second per hub between two refreshes, none across a restart", () => {
    const first = view(0, [
      ["hub:a", 100],
      ["hub:b", 500],
    ]);
    const second = view(2_000, [
      ["hub:a", 140],
      ["hub:b", 3],
      ["hub:c", 9],
    ]);
    expect(messageRates(undefined, first).size).toBe(0);
    expect([...messageRates(first, second)]).toEqual([["hub:a", 20]]);
  });

  it("says how long ago and how long", () => {
    expect(age(undefined, 0)).toBe("–");
    expect(age(9_000, 10_000)).toBe("1.0 s");
    expect(age(0, 300_000)).toBe("5 min");
    expect(seconds(0.0123)).toBe("12 ms");
    expect(seconds(2.5)).toBe("2.50 s");
  });
});
