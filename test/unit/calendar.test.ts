import { describe, expect, it } from "vitest";
import { simulatedBars } from "../../worker/feeds/sim-history";
import { marketState, newYorkOffsetHours } from "../../worker/market/hours";
import { recentSessions, sessionAt, sessionOfDay } from "../../worker/market/sessions";
import { easterSunday, xnysDay } from "../../worker/market/xnys";
import { prng } from "../support/prng";
import { newYork, newYorkInstant, xnysReference } from "../support/xnys-reference";

const MIN = 60_000;
const reference = xnysReference();

/** Every date from `first` to `last`, inclusive. */
function* dates(first: string, last: string): Generator<string> {
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 86_400_000)
    yield new Date(t).toISOString().slice(0, 10);
}

describe("NYSE's calendar against exchange_calendars' XNYS sessions, 2000-2030", () => {
  it("opens and closes every session at the reference's instants, and has no other session: 0 differences", () => {
    const differences: string[] = [];
    let sessions = 0;
    for (const date of dates("2000-01-01", "2030-12-31")) {
      const want = reference.get(date);
      const got = sessionOfDay("equity", date);
      if (got) sessions++;
      const show = (s?: { open: number; close: number }) =>
        s ? `${new Date(s.open).toISOString()}-${new Date(s.close).toISOString()}` : "closed";
      if (show(got) !== show(want)) differences.push(`${date}: ${show(got)}, reference ${show(want)}`);
    }
    expect(differences).toEqual([]);
    expect(sessions).toBe(reference.size);
    expect(sessions).toBeGreaterThan(31 * 250);
  });

  it("finds the session of any instant, in any order of asking, at the reference's edges too", () => {
    // sessionAt remembers sessions (the last one per class, each day's): answers must not depend on what came before.
    const rnd = prng(11);
    const span = Date.parse("2031-01-01T00:00:00Z") - Date.parse("2000-01-01T00:00:00Z");
    const instants = Array.from({ length: 4_000 }, () => Date.parse("2000-01-01T00:00:00Z") + Math.floor(rnd() * span));
    for (const s of [...reference.values()].filter(() => rnd() < 0.05))
      instants.push(s.open - 1, s.open, s.close - 1, s.close);
    const wrong: string[] = [];
    for (const order of [instants, [...instants].sort((a, b) => a - b)])
      for (const ts of order) {
        const want = reference.get(newYork(ts).date);
        const expected = want && ts >= want.open && ts < want.close ? want : undefined;
        const got = sessionAt("AAPL", ts);
        if (got?.open !== expected?.open || got?.close !== expected?.close)
          wrong.push(`${new Date(ts).toISOString()}: ${JSON.stringify(got)}`);
      }
    expect(wrong).toEqual([]);
  });

  it("says REGULAR at noon of every session and CLOSED at noon of every other day; POST after every close", () => {
    const wrong: string[] = [];
    for (const date of dates("2000-01-01", "2030-12-31")) {
      const session = reference.get(date);
      const noon = newYorkInstant(date, 12 * 60);
      const state = marketState("AAPL", noon);
      if (state !== (session ? "REGULAR" : "CLOSED")) wrong.push(`${date} noon: ${state}`);
      if (!session) {
        if (marketState("AAPL", newYorkInstant(date, 8 * 60)) !== "CLOSED") wrong.push(`${date} 08:00 not CLOSED`);
        continue;
      }
      if (marketState("AAPL", session.close - 1) !== "REGULAR") wrong.push(`${date} before the close`);
      if (marketState("AAPL", session.close) !== "POST") wrong.push(`${date} at the close`);
      if (marketState("^GSPC", session.close) !== "CLOSED") wrong.push(`${date} index at the close`);
      if (sessionAt("AAPL", session.open)?.day !== date || sessionAt("AAPL", session.close))
        wrong.push(`${date} edges`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("the exchange's rules", () => {
  it("observes a Saturday holiday on the Friday before, except New Year's Day", () => {
    expect(xnysDay("2026-07-03")).toEqual({ kind: "closed", why: "Independence Day" });
    expect(xnysDay("2027-12-24")).toEqual({ kind: "closed", why: "Christmas Day" });
    expect(xnysDay("2027-06-18")).toEqual({ kind: "closed", why: "Juneteenth" });
    // Jan 1 2022 and 2028 are Saturdays: Dec 31 trades a full day.
    expect(xnysDay("2021-12-31")).toEqual({ kind: "session", close: 16 * 60 });
    expect(xnysDay("2027-12-31")).toEqual({ kind: "session", close: 16 * 60 });
    expect(xnysDay("2023-01-02")).toEqual({ kind: "closed", why: "New Year's Day" });
  });
  it("closes early on July 3 only Monday, Tuesday, Thursday (and Wednesday since 2013), Christmas Eve only Monday to Thursday", () => {
    expect(xnysDay("2024-07-03")).toMatchObject({ kind: "session", close: 13 * 60 });
    expect(xnysDay("2013-07-03")).toMatchObject({ kind: "session", close: 13 * 60 });
    expect(xnysDay("2002-07-03")).toEqual({ kind: "session", close: 16 * 60 });
    expect(xnysDay("2002-07-05")).toMatchObject({ kind: "session", close: 13 * 60 });
    expect(xnysDay("2025-12-24")).toMatchObject({ kind: "session", close: 13 * 60, early: "Christmas Eve" });
    expect(xnysDay("2026-11-27")).toMatchObject({ kind: "session", close: 13 * 60, early: "Day after Thanksgiving" });
  });
  it("keeps the closures announced one at a time", () => {
    for (const date of [
      "2001-09-11",
      "2001-09-14",
      "2004-06-11",
      "2007-01-02",
      "2012-10-30",
      "2018-12-05",
      "2025-01-09",
    ])
      expect(xnysDay(date).kind, date).toBe("closed");
  });
  it("computes Easter on its earliest and latest dates", () => {
    expect(easterSunday(2285)).toEqual([3, 22]);
    expect(easterSunday(2038)).toEqual([4, 25]);
    expect(easterSunday(2026)).toEqual([4, 5]);
  });
  it("moves New York's clocks on the US dates of each era (April-October until 2006)", () => {
    expect(newYorkOffsetHours(Date.UTC(2006, 3, 2, 6, 59))).toBe(-5);
    expect(newYorkOffsetHours(Date.UTC(2006, 3, 2, 7, 0))).toBe(-4);
    expect(newYorkOffsetHours(Date.UTC(2006, 9, 29, 5, 59))).toBe(-4);
    expect(newYorkOffsetHours(Date.UTC(2006, 9, 29, 6, 0))).toBe(-5);
  });
});

describe("holidays in the market code", () => {
  // Christmas 2026, Independence Day observed 2026, Christmas observed 2027, Good Friday 2026.
  const holidays = ["2026-12-25", "2026-07-03", "2027-12-24", "2026-04-03"];

  it("marks the whole day CLOSED, before, during and after regular hours", () => {
    for (const day of holidays) {
      for (const minutes of [5 * 60, 10 * 60, 14 * 60 + 30, 17 * 60])
        expect(marketState("AAPL", newYorkInstant(day, minutes)), `${day} ${minutes}`).toBe("CLOSED");
      expect(sessionOfDay("equity", day)).toBeUndefined();
    }
    // An early close: POST from 13:00 to 17:00, then CLOSED.
    expect(marketState("AAPL", newYorkInstant("2026-12-24", 12 * 60 + 59))).toBe("REGULAR");
    expect(marketState("AAPL", newYorkInstant("2026-12-24", 14 * 60 + 30))).toBe("POST");
    expect(marketState("AAPL", newYorkInstant("2026-12-24", 17 * 60))).toBe("CLOSED");
  });

  it("keeps BAR_DAYS real sessions, and the simulator draws no bars on a holiday", () => {
    for (const [now, days] of [
      ["2026-12-31T21:00:00Z", ["2026-12-24", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31"]],
      ["2026-04-09T21:00:00Z", ["2026-04-02", "2026-04-06", "2026-04-07", "2026-04-08", "2026-04-09"]],
      ["2026-07-06T21:00:00Z", ["2026-06-29", "2026-06-30", "2026-07-01", "2026-07-02", "2026-07-06"]],
      ["2027-12-27T21:00:00Z", ["2027-12-20", "2027-12-21", "2027-12-22", "2027-12-23", "2027-12-27"]],
    ] as const) {
      const ts = Date.parse(now);
      const sessions = recentSessions("AAPL", ts, 5);
      expect(sessions.map((s) => s.day)).toEqual(days);
      const bars = simulatedBars("AAPL", "seed", sessions, ts, 100);
      const drawnOn = new Set(bars.map((b) => newYork(b.t).date));
      expect([...drawnOn]).toEqual(days);
      // Every minute of each reference session, and nothing else.
      const minutes = days.reduce((n, d) => n + (reference.get(d)!.close - reference.get(d)!.open) / MIN, 0);
      expect(bars.length).toBe(minutes);
    }
  });
});

describe("FX and crypto", () => {
  it("closes FX from 17:00 New York the evening before Christmas Day and New Year's Day to 17:00 on the day", () => {
    // Christmas 2025 is a Thursday.
    expect(marketState("EURUSD=X", Date.parse("2025-12-24T21:59:00Z"))).toBe("REGULAR");
    expect(marketState("EURUSD=X", Date.parse("2025-12-24T22:00:00Z"))).toBe("CLOSED");
    expect(marketState("EURUSD=X", Date.parse("2025-12-25T21:59:00Z"))).toBe("CLOSED");
    expect(marketState("EURUSD=X", Date.parse("2025-12-25T22:00:00Z"))).toBe("REGULAR");
    expect(sessionOfDay("fx", "2025-12-25")).toBeUndefined();
    expect(sessionAt("EURUSD=X", Date.parse("2025-12-25T22:00:00Z"))!.day).toBe("2025-12-26");
    expect(sessionAt("EURUSD=X", Date.parse("2025-12-25T12:00:00Z"))).toBeUndefined();
    // New Year's Day 2026 (a Thursday).
    expect(marketState("EURUSD=X", Date.parse("2026-01-01T12:00:00Z"))).toBe("CLOSED");
    expect(recentSessions("EURUSD=X", Date.parse("2026-01-02T12:00:00Z"), 3).map((s) => s.day)).toEqual([
      "2025-12-30",
      "2025-12-31",
      "2026-01-02",
    ]);
  });
  it("keeps crypto open every day of the year", () => {
    expect(marketState("BTC-USD", Date.parse("2025-12-25T12:00:00Z"))).toBe("REGULAR");
    expect(sessionOfDay("crypto", "2026-12-25")).toBeDefined();
  });
});
