/** Bar ranges as whole bars (`barSpan`), what a history lacks (`HistoryGaps`, Polygon's aggregates), late trades' reports. */
import { describe, expect, it } from "vitest";
import { missingOf } from "../../worker/feeds/adapters/polygon";
import { barSpan } from "../../worker/market/bar-range";
import { aggregate, type Bar, MINUTE_MS } from "../../worker/market/bars";
import { HistoryGaps } from "../../worker/objects/source/history-gaps";
import { LATE_REPORT_MS, LateTrades } from "../../worker/objects/source/late-trades";

const at = (iso: string) => Date.parse(iso);
const minutes = (from: number, to: number): Bar[] => {
  const out: Bar[] = [];
  for (let t = from; t < to; t += MINUTE_MS) out.push({ t, o: 1, h: 2, l: 1, c: 1, v: 1_000, n: 10 });
  return out;
};

describe("bar ranges are whole bars", () => {
  it("5m with `to` inside a bucket: the bucket is whole, and any `to` inside it is the same range", () => {
    const span = barSpan("AAPL", "5m", at("2026-12-04T14:31:00Z"), at("2026-12-04T14:37:00Z"));
    expect(span).toEqual({
      from: at("2026-12-04T14:35:00Z"),
      to: at("2026-12-04T14:40:00Z"),
      end: at("2026-12-04T14:40:00Z"),
    });
    expect(barSpan("AAPL", "5m", at("2026-12-04T14:35:00Z"), at("2026-12-04T14:39:59Z"))).toEqual(span);
    // The bar of 14:35 from the minutes the span reads: five of them, not two.
    const read = minutes(span.from, span.end!);
    expect(aggregate("AAPL", read, "5m")).toEqual([{ t: span.from, o: 1, h: 2, l: 1, c: 1, v: 5_000, n: 50 }]);
  });
  it("1d with `to` at 17:00Z: the session that started before it, whole (to its close)", () => {
    const span = barSpan("AAPL", "1d", at("2026-12-04T00:00:00Z"), at("2026-12-04T17:00:00Z"));
    expect(span.from).toBe(at("2026-12-04T14:30:00Z"));
    expect(span.end).toBe(at("2026-12-04T21:00:00Z"));
    // The next bar start: Monday's open (the weekend starts no bar).
    expect(span.to).toBe(at("2026-12-07T14:30:00Z"));
    expect(barSpan("AAPL", "1d", at("2026-12-04T00:00:00Z"), at("2026-12-06T12:00:00Z"))).toEqual(span);
  });
  it("FX days start 17:00 New York the evening before: a date range holds the day that starts in it, whole", () => {
    const span = barSpan("EURUSD=X", "1d", at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z"));
    // The FX day named 2026-12-02 opens 2026-12-01T22:00Z; the one named 12-01 opened the day before: not in it.
    expect(span).toEqual({
      from: at("2026-12-01T22:00:00Z"),
      to: at("2026-12-02T22:00:00Z"),
      end: at("2026-12-02T22:00:00Z"),
    });
    expect(aggregate("EURUSD=X", minutes(span.from, span.end!), "1d")[0]!.n).toBe(1_440 * 10);
  });
  it("a range between sessions holds no bar and has ended at the last close", () => {
    const span = barSpan("AAPL", "1m", at("2026-12-05T00:00:00Z"), at("2026-12-06T00:00:00Z"));
    expect(span.from).toBe(at("2026-12-07T14:30:00Z"));
    expect(span.end).toBe(at("2026-12-04T21:00:00Z"));
    expect(barSpan("BTC-USD", "1h", at("2026-12-05T10:20:00Z"))).toEqual({ from: at("2026-12-05T11:00:00Z") });
  });
});

describe("history gaps", () => {
  it("are split by what arrives, trimmed with the kept days, and say why a range is short", () => {
    const gaps = new HistoryGaps();
    gaps.add({ from: 0, to: 100, reason: "plan", retryAt: 50 });
    gaps.add({ from: 150, to: 200, reason: "delayed" });
    gaps.fill(40, 60);
    expect(gaps.list()).toEqual([
      { from: 0, to: 40, reason: "plan", retryAt: 50 },
      { from: 60, to: 100, reason: "plan", retryAt: 50 },
      { from: 150, to: 200, reason: "delayed" },
    ]);
    expect(gaps.reasons(90, 160)).toBe("plan; delayed");
    expect(gaps.reasons(100, 150)).toBeUndefined();
    expect(gaps.due(49)).toBeUndefined();
    expect(gaps.due(50)).toEqual({ from: 0, to: 40, reason: "plan", retryAt: 50 });
    expect(gaps.trim(80)).toBe(true);
    expect(gaps.trim(80)).toBe(false);
    expect(gaps.list().map((g) => [g.from, g.to])).toEqual([
      [80, 100],
      [150, 200],
    ]);
    // A stretch said again replaces what was said of it.
    gaps.add({ from: 90, to: 170, reason: "fetching" });
    expect(gaps.list().map((g) => [g.from, g.to, g.reason])).toEqual([
      [80, 90, "plan"],
      [90, 170, "fetching"],
      [170, 200, "delayed"],
    ]);
  });
});

describe("what Polygon's aggregates lack", () => {
  const bar = (t: number): Bar => ({ t, o: 1, h: 1, l: 1, c: 1, v: 1, n: 1 });
  const from = at("2026-11-30T14:30:00Z"); // Monday's open
  const to = at("2026-12-04T15:00:00Z");
  it("no bar in the first session asked for: the plan keeps less, up to the session of the first bar", () => {
    const missing = missingOf("AAPL", [bar(at("2026-12-02T15:00:00Z"))], from, to, false, false);
    expect(missing).toEqual([
      { from, to: at("2026-12-02T14:30:00Z"), reason: "history starts 2026-12-02T15:00:00.000Z, the plan keeps less" },
    ]);
    // A first bar late in the first session is a quiet morning, not a short plan.
    expect(missingOf("AAPL", [bar(at("2026-11-30T20:00:00Z"))], from, to, false, false)).toEqual([]);
    // Starting on a holiday (Thanksgiving 2026-11-26): the first session asked for is the next one.
    expect(missingOf("AAPL", [bar(at("2026-11-27T15:00:00Z"))], at("2026-11-26T14:30:00Z"), to, false, false)).toEqual(
      [],
    );
  });
  it("more pages: the rest is asked for later; none at all: the whole range", () => {
    expect(missingOf("AAPL", [bar(from)], from, to, true, false)).toMatchObject([
      { from: from + MINUTE_MS, to, reason: "more bars than one request returns" },
    ]);
    expect(missingOf("AAPL", [], from, to, false, false)).toEqual([
      { from, to, reason: "the provider returned no bars" },
    ]);
  });
});

describe("trades too late for any correction", () => {
  it("are reported at once, then at most once every LATE_REPORT_MS with everything refused meanwhile", () => {
    const late = new LateTrades();
    expect(late.refused(5, 1_000, 0)).toEqual({ trades: 1, size: 5, maxLateMs: 1_000 });
    expect(late.refused(7, 3_000, 10)).toBeUndefined();
    expect(late.refused(1, 2_000, LATE_REPORT_MS)).toEqual({ trades: 2, size: 8, maxLateMs: 3_000 });
  });
});
