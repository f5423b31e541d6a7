import { describe, expect, it } from "vitest";
import { simulatedBars } from "../../worker/feeds/sim-history";
import { isClosedRange, MAX_BARS, parseBarsQuery } from "../../worker/http/bars-query";
import { aggregate, dayFigures } from "../../worker/market/bars";
import { recentSessions } from "../../worker/market/sessions";

describe("/api/bars query", () => {
  it("takes ISO 8601 or epoch milliseconds, with defaults for what is left out", () => {
    expect(parseBarsQuery({})).toEqual({ interval: "1m", from: 0, limit: MAX_BARS });
    expect(parseBarsQuery({ interval: "1h", from: "2026-12-04", to: "2026-12-04T21:00:00Z", limit: "3" })).toEqual({
      interval: "1h",
      from: Date.parse("2026-12-04T00:00:00Z"),
      to: Date.parse("2026-12-04T21:00:00Z"),
      limit: 3,
    });
    expect(parseBarsQuery({ from: "1796000000000", to: "2026-12-04T16:00:00-05:00" })).toMatchObject({
      from: 1_796_000_000_000,
      to: Date.parse("2026-12-04T21:00:00Z"),
    });
  });
  it("says what is wrong", () => {
    expect(parseBarsQuery({ interval: "2m" })).toBe("interval must be one of 1m, 5m, 15m, 1h, 1d");
    expect(parseBarsQuery({ from: "Friday" })).toMatch(/^from must be an ISO 8601 time/);
    expect(parseBarsQuery({ to: "1e12" })).toMatch(/^to must be an ISO 8601 time/);
    expect(parseBarsQuery({ from: "5", to: "5" })).toBe("to must be after from");
    for (const limit of ["0", "10001", "1.5", "x"])
      expect(parseBarsQuery({ limit })).toBe("limit must be an integer from 1 to 10000");
  });
  it("calls a range closed only once every bar that can start in it has ended", () => {
    const q = parseBarsQuery({ interval: "5m", to: "1000000" });
    if (typeof q === "string") throw new Error(q);
    expect(isClosedRange(q, 1_000_000 + 299_999)).toBe(false);
    expect(isClosedRange(q, 1_000_000 + 300_000)).toBe(true);
    const open = parseBarsQuery({ interval: "1m" });
    if (typeof open === "string") throw new Error(open);
    expect(isClosedRange(open, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe("the simulator's history", () => {
  const now = Date.parse("2026-12-06T12:00:00Z"); // a Sunday
  it("is every minute of the sessions that ended, deterministic, ending exactly on the live price", () => {
    const sessions = recentSessions("AAPL", now, 5);
    const bars = simulatedBars("AAPL", "seed", sessions, now, 228.5);
    expect(bars.length).toBe(5 * 390);
    expect(bars.at(-1)!.c).toBe(228.5);
    expect(simulatedBars("AAPL", "seed", sessions, now, 228.5)).toEqual(bars);
    expect(simulatedBars("AAPL", "other", sessions, now, 228.5)).not.toEqual(bars);
    for (const b of bars) expect(b.l <= Math.min(b.o, b.c) && b.h >= Math.max(b.o, b.c) && b.v > 0).toBe(true);
    // Inside a day, each minute opens where the last closed.
    for (let i = 1; i < 390; i++) expect(bars[i]!.o).toBe(bars[i - 1]!.c);
  });
  it("stops at the last minute that ended, and gives the day's figures", () => {
    const midday = Date.parse("2026-12-04T17:00:30Z"); // Friday 12:00:30 New York
    const bars = simulatedBars("BTC-USD", "seed", recentSessions("BTC-USD", midday, 2), midday, 63_250);
    expect(bars.at(-1)!.t).toBe(Date.parse("2026-12-04T16:59:00Z"));
    expect(bars.length).toBe(1440 + 17 * 60);
    const figures = dayFigures("BTC-USD", bars)!;
    const day = aggregate("BTC-USD", bars, "1d");
    expect(figures).toEqual({
      open: day[1]!.o,
      high: day[1]!.h,
      low: day[1]!.l,
      dayVolume: day[1]!.v,
      prevClose: day[0]!.c,
    });
  });
});
