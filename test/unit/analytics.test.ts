import { describe, expect, it } from "vitest";
import { AnalyticsWriter, FEED_COLUMNS, HUB_COLUMNS, writerFor } from "../../worker/metrics/analytics";
import { FeedMetrics } from "../../worker/metrics/feed-metrics";
import { HubMetrics } from "../../worker/metrics/hub-metrics";

/** The binding's interface, recording what it is given. */
class FakeDataset implements AnalyticsEngineDataset {
  readonly points: AnalyticsEngineDataPoint[] = [];
  writeDataPoint(point?: AnalyticsEngineDataPoint): void {
    if (point) this.points.push(structuredClone(point));
  }
}

function hubMetrics(connections: number) {
  return new HubMetrics(0, {
    connections: () => Array.from({ length: connections }, () => ({ transport: "websocket", connected: true })),
    streams: () => [{ kind: "ticker", subscriptions: 2 * connections }],
  });
}

describe("Analytics Engine writer", () => {
  it("writes at most one point per period: gauges as they are, counters as what they grew since the last point", () => {
    const dataset = new FakeDataset();
    const m = hubMetrics(3);
    const ws = m.open("websocket");
    const writer = new AnalyticsWriter(dataset, "hub", "hub:enam:0", HUB_COLUMNS, 1_000, 60_000);
    ws.messageFrames.inc(10);
    expect(writer.due(30_000)).toBe(false);
    expect(writer.write(30_000, () => m.snapshot())).toBe(false);
    expect(writer.write(61_000, () => m.snapshot())).toBe(true);
    expect(writer.write(61_500, () => m.snapshot())).toBe(false);
    ws.messageFrames.inc(5);
    m.delivered("ticker", 1_500);
    m.delivered("ticker", 10);
    expect(writer.write(121_000, () => m.snapshot())).toBe(true);
    expect(dataset.points).toHaveLength(2);
    const col = (point: AnalyticsEngineDataPoint, name: string) =>
      point.doubles![HUB_COLUMNS.findIndex((c) => c.name === name)];
    const [first, second] = dataset.points as [AnalyticsEngineDataPoint, AnalyticsEngineDataPoint];
    expect(first.indexes).toEqual(["hub:enam:0"]);
    expect(first.blobs).toEqual(["hub", "hub:enam:0"]);
    expect(first.doubles).toHaveLength(HUB_COLUMNS.length);
    expect(HUB_COLUMNS.length).toBeLessThanOrEqual(20); // the binding's limit
    expect(col(first, "connections")).toBe(3);
    expect(col(first, "subscriptions")).toBe(6);
    expect(col(first, "connections_opened")).toBe(1);
    expect(col(first, "message_frames_sent")).toBe(10);
    expect(col(second, "connections_opened")).toBe(0);
    expect(col(second, "message_frames_sent")).toBe(5);
    expect(col(second, "lag_count")).toBe(2);
    expect(col(second, "lag_sum_seconds")).toBeCloseTo(1.51);
    expect(col(second, "lag_over_1s")).toBe(1);
  });

  it("writes a scheduler shard's feed figures", () => {
    const dataset = new FakeDataset();
    const m = new FeedMetrics(0, "finnhub", {
      activeSymbols: () => 4,
      budgetLeft: () => 12,
      coldBudgetLeft: () => 3,
      requestsPerMinute: () => 60,
    });
    m.round(1, true, [undefined, { kind: "timeout", reason: "slow" }]);
    new AnalyticsWriter(dataset, "scheduler", "feed:0", FEED_COLUMNS, 0, 1_000).write(1_000, () =>
      m.snapshot({ recent: [], counts: {} }),
    );
    const values = Object.fromEntries(FEED_COLUMNS.map((c, i) => [c.name, dataset.points[0]!.doubles![i]]));
    expect(values).toEqual({
      active_symbols: 4,
      budget_left: 12,
      requests: 1,
      quotes_ok: 1,
      quotes: 2,
      rounds: 1,
      rounds_limited: 1,
    });
  });

  it("never throws into its caller: a failing dataset is reported once", () => {
    const errors: unknown[] = [];
    const broken: AnalyticsEngineDataset = {
      writeDataPoint() {
        throw new Error("dataset gone");
      },
    };
    const writer = new AnalyticsWriter(broken, "hub", "h", HUB_COLUMNS, 0, 1_000, (e) => errors.push(e));
    expect(writer.write(1_000, () => hubMetrics(1).snapshot())).toBe(false);
    expect(writer.write(2_000, () => hubMetrics(1).snapshot())).toBe(false);
    expect(errors).toHaveLength(1);
  });

  it("says once that it writes", () => {
    const lines: string[] = [];
    const writer = writerFor(
      new FakeDataset(),
      "hub",
      () => "hub:enam:0",
      1_000,
      (event) => lines.push(event),
    );
    const now = Date.now();
    writer.write(now + 1_000, () => hubMetrics(1).snapshot());
    writer.write(now + 2_000, () => hubMetrics(1).snapshot());
    expect(lines).toEqual(["metrics_dataset_writing"]);
  });
});
