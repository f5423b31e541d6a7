import { describe, expect, it } from "vitest";
import {
  aggregate,
  type Bar,
  BarBuilder,
  type BarTick,
  CORRECTION_MS,
  type Interval,
  plainBar,
} from "../../worker/market/bars";
import { marketState } from "../../worker/market/hours";
import { recentSessions, sessionAt } from "../../worker/market/sessions";
import { BarPacer } from "../../worker/objects/source/bar-pacer";
import { memoryBars } from "../support/memory-bars";

const MIN = 60_000;
/** 2026-12-04 (a Friday, EST) 09:30 New York = 14:30 UTC. */
const FRI_OPEN = Date.parse("2026-12-04T14:30:00Z");

/** Feeds ticks in order, each arriving at its own time (the fake clock); returns every bar, oldest first. */
function build(symbol: string, interval: Interval, ticks: BarTick[]): Bar[] {
  const store = memoryBars();
  const builder = new BarBuilder(symbol, interval, store);
  for (const tick of ticks) builder.add(tick, tick.ts);
  return store.all();
}

describe("sessions", () => {
  it("equities trade 09:30-16:00 New York time on weekdays, to 13:00 on half days", () => {
    expect(sessionAt("AAPL", FRI_OPEN)).toEqual({ day: "2026-12-04", open: FRI_OPEN, close: FRI_OPEN + 390 * MIN });
    expect(sessionAt("AAPL", FRI_OPEN - 1)).toBeUndefined();
    expect(sessionAt("AAPL", FRI_OPEN + 390 * MIN)).toBeUndefined();
    expect(sessionAt("AAPL", Date.parse("2026-12-05T15:00:00Z"))).toBeUndefined(); // Saturday
    // The day after Thanksgiving 2026 (Nov 26) closes at 13:00 EST = 18:00 UTC.
    const half = sessionAt("AAPL", Date.parse("2026-11-27T15:00:00Z"))!;
    expect(half.close - half.open).toBe(210 * MIN);
    expect(marketState("AAPL", Date.parse("2026-11-27T18:30:00Z"))).toBe("POST");
    expect(sessionAt("AAPL", Date.parse("2024-07-03T15:00:00Z"))!.close).toBe(Date.parse("2024-07-03T17:00:00Z"));
    // 2026-07-03 is a Friday: the observed Independence Day, no session.
    expect(sessionAt("AAPL", Date.parse("2026-07-03T15:00:00Z"))).toBeUndefined();
  });
  it("follows New York's daylight-saving change: the open moves an hour in UTC", () => {
    // 2026-03-06 is EST (open 14:30 UTC), 2026-03-09 is EDT (open 13:30 UTC).
    expect(sessionAt("SPY", Date.parse("2026-03-06T14:30:00Z"))!.open).toBe(Date.parse("2026-03-06T14:30:00Z"));
    expect(sessionAt("SPY", Date.parse("2026-03-09T13:30:00Z"))!.open).toBe(Date.parse("2026-03-09T13:30:00Z"));
    expect(sessionAt("SPY", Date.parse("2026-03-09T13:29:59Z"))).toBeUndefined();
    // November: back to EST.
    expect(sessionAt("SPY", Date.parse("2026-11-02T14:30:00Z"))!.close).toBe(Date.parse("2026-11-02T21:00:00Z"));
  });
  it("crypto trades around the clock, one day per UTC date; FX from Sunday 17:00 to Friday 17:00 New York", () => {
    const sat = Date.parse("2026-12-05T03:00:00Z");
    expect(sessionAt("BTC-USD", sat)).toEqual({
      day: "2026-12-05",
      open: Date.parse("2026-12-05T00:00:00Z"),
      close: Date.parse("2026-12-06T00:00:00Z"),
    });
    expect(sessionAt("EURUSD=X", sat)).toBeUndefined();
    // Sunday 17:00 EST = 22:00 UTC opens Monday's FX day.
    expect(sessionAt("EURUSD=X", Date.parse("2026-12-06T22:00:00Z"))!.day).toBe("2026-12-07");
    expect(sessionAt("EURUSD=X", Date.parse("2026-12-06T21:59:59Z"))).toBeUndefined();
    expect(sessionAt("EURUSD=X", Date.parse("2026-12-04T21:59:59Z"))!.day).toBe("2026-12-04");
  });
  it("lists the last N trading days, the one in progress included", () => {
    const sunday = Date.parse("2026-12-06T12:00:00Z");
    expect(recentSessions("AAPL", sunday, 5).map((s) => s.day)).toEqual([
      "2026-11-30",
      "2026-12-01",
      "2026-12-02",
      "2026-12-03",
      "2026-12-04",
    ]);
    expect(recentSessions("BTC-USD", sunday, 2).map((s) => s.day)).toEqual(["2026-12-05", "2026-12-06"]);
    // Monday 10:00 New York: Monday's session has opened.
    expect(recentSessions("AAPL", Date.parse("2026-12-07T15:00:00Z"), 1)[0]!.day).toBe("2026-12-07");
  });
});

describe("bar building", () => {
  it("buckets by the minute: a tick exactly on a boundary starts the next bar", () => {
    const bars = build("AAPL", "1m", [
      { ts: FRI_OPEN, price: 10 },
      { ts: FRI_OPEN + MIN - 1, price: 12 },
      { ts: FRI_OPEN + MIN, price: 11 },
    ]);
    expect(bars).toEqual([
      { t: FRI_OPEN, o: 10, h: 12, l: 10, c: 12, v: 0, n: 2 },
      { t: FRI_OPEN + MIN, o: 11, h: 11, l: 11, c: 11, v: 0, n: 1 },
    ]);
  });
  it("makes no bars outside the session", () => {
    const builder = new BarBuilder("AAPL", "1m", memoryBars());
    expect(builder.add({ ts: FRI_OPEN - 1, price: 10 }, FRI_OPEN - 1)).toEqual({
      kind: "ignored",
      reason: "outside-session",
    });
    expect(builder.add({ ts: FRI_OPEN + 390 * MIN, price: 10 }, FRI_OPEN + 390 * MIN)).toEqual({
      kind: "ignored",
      reason: "outside-session",
    });
  });
  it("a late trade corrects its bar within the correction window, by its own time; later it is refused", () => {
    const store = memoryBars();
    const builder = new BarBuilder("AAPL", "1m", store);
    builder.add({ ts: FRI_OPEN + 30_000, price: 10, size: 1 }, FRI_OPEN + 30_000);
    // Stamped earlier, arriving later within the minute: the new open, not the close.
    const early = builder.add({ ts: FRI_OPEN + 5_000, price: 9, size: 2 }, FRI_OPEN + 59_999);
    expect(early).toMatchObject({ kind: "updated", bar: { t: FRI_OPEN, o: 9, l: 9, c: 10, v: 3, n: 2 } });
    expect(builder.forming(FRI_OPEN + MIN)).toBeUndefined();
    expect(builder.close(FRI_OPEN + MIN)).toEqual([{ t: FRI_OPEN, o: 9, h: 10, l: 9, c: 10, v: 3, n: 2 }]);
    // The minute has ended: a trade stamped in it is a correction of the final bar.
    expect(builder.add({ ts: FRI_OPEN + 59_000, price: 8, size: 4 }, FRI_OPEN + 2 * MIN)).toEqual({
      kind: "corrected",
      bar: { t: FRI_OPEN, o: 9, h: 10, l: 8, c: 8, v: 7, n: 3 },
    });
    // A trade of a minute that had none: a bar of its own, final at once.
    expect(builder.add({ ts: FRI_OPEN + MIN + 1, price: 11, size: 1 }, FRI_OPEN + 3 * MIN)).toMatchObject({
      kind: "added",
      bar: { t: FRI_OPEN + MIN, o: 11, n: 1 },
    });
    // The window is over: refused, nothing changes.
    expect(builder.add({ ts: FRI_OPEN + 1, price: 1, size: 9 }, FRI_OPEN + MIN + CORRECTION_MS)).toEqual({
      kind: "ignored",
      reason: "too-late",
    });
    expect(store.all().map((b) => b.v)).toEqual([7, 1]);
  });
  it("the close is the latest trade in time, the open the earliest, whatever the order they arrive in", () => {
    const ticks: BarTick[] = [
      { ts: FRI_OPEN + 1_000, price: 100, size: 1 },
      { ts: FRI_OPEN + 50_000, price: 105, size: 1 },
      { ts: FRI_OPEN + 20_000, price: 101, size: 1 },
    ];
    const builder = new BarBuilder("AAPL", "1m", memoryBars());
    let change: ReturnType<BarBuilder["add"]> | undefined;
    for (const tick of ticks) change = builder.add(tick, FRI_OPEN + 55_000);
    expect(change).toMatchObject({ bar: { o: 100, h: 105, l: 100, c: 105, v: 3, n: 3 } });
  });
  it("sums the ticks' sizes; a tick without a size adds nothing", () => {
    const bars = build("BTC-USD", "1m", [
      { ts: FRI_OPEN, price: 1, size: 100 },
      { ts: FRI_OPEN + 1_000, price: 1, size: 250 },
      { ts: FRI_OPEN + 2_000, price: 1 },
      { ts: FRI_OPEN + MIN, price: 1, size: 400 },
      { ts: FRI_OPEN + MIN + 1, price: 1, size: 40 },
    ]);
    expect(bars.map((b) => b.v)).toEqual([350, 440]);
  });
  it("finalizes the forming bar when the next one starts, and on the clock", () => {
    const builder = new BarBuilder("AAPL", "1m", memoryBars());
    builder.add({ ts: FRI_OPEN, price: 1 }, FRI_OPEN);
    expect(builder.close(FRI_OPEN + MIN - 1)).toEqual([]);
    const next = builder.add({ ts: FRI_OPEN + 5 * MIN, price: 2 }, FRI_OPEN + 5 * MIN);
    expect(next).toMatchObject({ kind: "updated", finalized: [{ t: FRI_OPEN, c: 1 }], bar: { t: FRI_OPEN + 5 * MIN } });
  });
  it("resumes a stored forming bar after a restart", () => {
    const forming = { t: FRI_OPEN, o: 1, h: 2, l: 1, c: 2, v: 10, n: 3, ot: FRI_OPEN, ct: FRI_OPEN + 5_000 };
    const builder = new BarBuilder("AAPL", "1m", memoryBars([forming]), { forming });
    expect(builder.add({ ts: FRI_OPEN + 10_000, price: 3, size: 50 }, FRI_OPEN + 10_000)).toMatchObject({
      bar: { h: 3, c: 3, v: 60, n: 4 },
    });
  });
  it("sums the sizes of trades; a tick without a size adds nothing", () => {
    const bars = build("BTC-USD", "1m", [
      { ts: FRI_OPEN, price: 1, size: 10 },
      { ts: FRI_OPEN + 1_000, price: 1, size: 5 },
      { ts: FRI_OPEN + MIN, price: 1 },
      { ts: FRI_OPEN + MIN + 2_000, price: 1, size: 30 },
    ]);
    expect(bars.map((b) => b.v)).toEqual([15, 30]);
    expect(plainBar({ ...bars[0]!, ot: 1, ct: 2 } as Bar)).toEqual(bars[0]);
  });
});

describe("derived intervals", () => {
  /** Two and a half sessions of ticks every 7 s (crossing closes, a weekend and a DST-free week), prices from a fixed walk. */
  function ticks(symbol: string, from: number, count: number): BarTick[] {
    const out: BarTick[] = [];
    let price = 100;
    for (let i = 0; i < count; i++) {
      price = Math.round((price + Math.sin(i * 1.7) * 0.3) * 100) / 100;
      const ts = from + i * 7_000;
      if (sessionAt(symbol, ts)) out.push({ ts, price, size: (i * 37) % 500 });
    }
    return out;
  }
  for (const symbol of ["AAPL", "BTC-USD", "EURUSD=X"]) {
    it(`5m, 15m, 1h and 1d of ${symbol} equal building them directly`, () => {
      const from = Date.parse("2026-12-03T13:00:00Z");
      const all = ticks(symbol, from, 40_000);
      const minutes = build(symbol, "1m", all);
      expect(minutes.length).toBeGreaterThan(500);
      for (const interval of ["5m", "15m", "1h", "1d"] as const) {
        expect(aggregate(symbol, minutes, interval)).toEqual(build(symbol, interval, all));
      }
    });
  }
  it("an equity day is 390 one-minute bars (210 on a half day), whatever the DST offset", () => {
    for (const [day, count] of [
      ["2026-12-04", 390],
      ["2026-11-27", 210],
      ["2026-03-09", 390],
      ["2026-03-06", 390],
    ] as const) {
      const [s] = recentSessions("AAPL", Date.parse(`${day}T23:59:00Z`), 1);
      const all: BarTick[] = [];
      for (let ts = s!.open - 5 * MIN; ts < s!.close + 5 * MIN; ts += 20_000) all.push({ ts, price: 1 });
      const minutes = build("AAPL", "1m", all);
      expect(minutes.length).toBe(count);
      expect(aggregate("AAPL", minutes, "1d")).toEqual([{ t: s!.open, o: 1, h: 1, l: 1, c: 1, v: 0, n: count * 3 }]);
      expect(aggregate("AAPL", minutes, "1h").length).toBe(count === 390 ? 7 : 4);
    }
  });
});

describe("bar pacing", () => {
  const bar = (t: number, c: number): Bar => ({ t, o: 1, h: Math.max(1, c), l: Math.min(1, c), c, v: 0, n: 1 });
  it("sends the forming bar at most once a second, conflated to its newest state", () => {
    const pacer = new BarPacer(1_000);
    pacer.push([], bar(0, 1));
    expect(pacer.take(100)).toEqual({ update: { bar: bar(0, 1), final: false } });
    pacer.push([], bar(0, 2));
    pacer.push([], bar(0, 3));
    expect(pacer.take(500)).toEqual({ next: 1_100 });
    expect(pacer.take(1_100)).toEqual({ update: { bar: bar(0, 3), final: false } });
    expect(pacer.take(5_000)).toEqual({});
  });
  it("sends every final bar, one a second, and drops a forming bar a final one supersedes", () => {
    const pacer = new BarPacer(1_000);
    pacer.push([], bar(0, 1));
    pacer.push([bar(0, 2)], bar(MIN, 5));
    expect(pacer.take(0)).toEqual({ update: { bar: bar(0, 2), final: true }, next: 1_000 });
    expect(pacer.take(1_000)).toEqual({ update: { bar: bar(MIN, 5), final: false } });
    // Final without a newer forming bar (closed by the clock): the pending forming one is gone.
    pacer.push([], bar(MIN, 6));
    pacer.push([bar(MIN, 6)]);
    expect(pacer.take(2_000)).toEqual({ update: { bar: bar(MIN, 6), final: true } });
    expect(pacer.take(9_000)).toEqual({});
  });
  it("sends a correction of a final bar after it, marked; one not sent yet just changes the queued final", () => {
    const pacer = new BarPacer(1_000);
    pacer.push([bar(0, 2)]);
    expect(pacer.take(0)).toEqual({ update: { bar: bar(0, 2), final: true } });
    pacer.push([bar(MIN, 3)]);
    pacer.correct(bar(MIN, 4)); // its final has not gone out: it goes out once, corrected
    pacer.correct(bar(0, 5));
    pacer.correct(bar(0, 6)); // conflated with the queued correction
    expect(pacer.take(1_000)).toEqual({ update: { bar: bar(MIN, 4), final: true }, next: 2_000 });
    expect(pacer.take(2_000)).toEqual({ update: { bar: bar(0, 6), final: true, correction: true } });
  });
  it("over a minute of ticks every 100 ms sends at most one update a second, the final bar included", () => {
    const pacer = new BarPacer(1_000);
    const builder = new BarBuilder("BTC-USD", "1m", memoryBars());
    const sent: number[] = [];
    let due: number | undefined;
    for (let now = FRI_OPEN; now < FRI_OPEN + 3 * MIN; now += 100) {
      const change = builder.add({ ts: now, price: 100 + (now % 7) }, now);
      if (change.kind === "updated") pacer.push(change.finalized, change.bar);
      if (due === undefined || now >= due) {
        const { update, next } = pacer.take(now);
        if (update) sent.push(now);
        due = next;
      }
    }
    for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(1_000);
    expect(sent.length).toBeGreaterThanOrEqual(170);
  });
});
