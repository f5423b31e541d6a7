import { describe, expect, it } from "vitest";
import { simulatedBars } from "../../worker/feeds/sim-history";
import { MAX_BARS, parseBarsQuery } from "../../worker/http/bars-query";
import { aggregate, dayFigures } from "../../worker/market/bars";
import { recentSessions } from "../../worker/market/sessions";

describe("/api/bars query", () => {
  const instant = (raw: string) => {
    const q = parseBarsQuery({ from: raw });
    return typeof q === "string" ? q : q.from;
  };
  it("takes ISO 8601 or epoch seconds or milliseconds, with defaults for what is left out", () => {
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
    // The digits say the unit: 10 are seconds, 13 milliseconds; 0 is both.
    expect(instant("1796000000")).toBe(1_796_000_000_000);
    expect(instant("0")).toBe(0);
    expect(instant("2026-12-04T14:30Z")).toBe(Date.parse("2026-12-04T14:30:00Z"));
    expect(instant("2026-12-04 09:30:00.5-0500")).toBe(Date.parse("2026-12-04T14:30:00.500Z"));
    expect(instant("2026-12-04T14:30:00.123456789+00:00")).toBe(Date.parse("2026-12-04T14:30:00.123Z"));
    expect(instant("2024-02-29")).toBe(Date.parse("2024-02-29T00:00:00Z"));
  });
  it("refuses what could be misread, with a one-line reason", () => {
    // Seconds read as milliseconds would be 1970; a number of other lengths names no unit.
    for (const raw of ["179600000", "17960000000", "179600000000", "17960000000000", "0001796000000", "-1796000000"])
      expect(instant(raw), raw).toMatch(
        /^from: (.* is neither epoch seconds \(10 digits\) nor milliseconds \(13 digits\)|use ISO 8601)/,
      );
    for (const raw of ["2026-02-30", "2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31T10:00:00Z"])
      expect(instant(raw), raw).toBe(`from: ${raw.slice(0, 10)} is not a calendar date`);
    for (const raw of ["2026-12-04T14:30", "2026-12-04T14:30:00", "2026-12-04 14:30:00.000"])
      expect(instant(raw), raw).toBe(`from: ${raw} has no offset: add Z or one such as -05:00`);
    for (const raw of ["2026-12-04T24:00:00Z", "2026-12-04T14:60Z", "2026-12-04T14:30:60Z", "2026-12-04T14:30+24:00"])
      expect(instant(raw), raw).toBe(`from: ${raw} is not a valid time`);
    for (const raw of ["Friday", "1e12", "0x10", "12-04-2026", "2026-12-4", "2026-12-04T14Z", " 2026-12-04", ""])
      expect(instant(raw), raw).toMatch(/^from: use ISO 8601 \(2026-12-04, 2026-12-04T14:30:00Z\) or epoch seconds/);
    expect(parseBarsQuery({ to: "2026-02-30" })).toBe("to: 2026-02-30 is not a calendar date");
    expect(parseBarsQuery({ interval: "2m" })).toBe("interval must be one of 1m, 5m, 15m, 1h, 1d");
    expect(parseBarsQuery({ from: "1796000000", to: "1796000000000" })).toBe("to must be after from");
    for (const limit of ["0", "10001", "1.5", "x", "0x10", "1e3", " 5", "+5", "5.0", "", "100000000"])
      expect(parseBarsQuery({ limit }), limit).toBe("limit must be a decimal integer from 1 to 10000");
    expect(parseBarsQuery({ limit: "010" })).toMatchObject({ limit: 10 });
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
