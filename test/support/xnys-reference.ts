/**
 * The NYSE reference sessions of test/fixtures/xnys-sessions-2000-2030.txt (copied from
 * exchange_calendars), turned into instants with the runtime's own time-zone data (Intl),
 * independently of the worker's calendar and clock.
 */
import { readFileSync } from "node:fs";

export interface ReferenceSession {
  /** Epoch ms of the open and the close. */
  open: number;
  close: number;
}

const NEW_YORK = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/** New York's date and minutes since midnight at `ts`. */
export function newYork(ts: number): { date: string; minutes: number } {
  const p = Object.fromEntries(NEW_YORK.formatToParts(new Date(ts)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, minutes: Number(p.hour) * 60 + Number(p.minute) };
}

/** The instant New York's clocks read `minutes` past midnight on `date` (never inside a DST gap here). */
export function newYorkInstant(date: string, minutes: number): number {
  const wanted = Date.parse(`${date}T00:00:00Z`) + minutes * 60_000;
  let ts = wanted + 5 * 3_600_000;
  for (let i = 0; i < 3; i++) {
    const seen = newYork(ts);
    ts += wanted - (Date.parse(`${seen.date}T00:00:00Z`) + seen.minutes * 60_000);
  }
  return ts;
}

const hhmm = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/** Every reference session by New York date (`YYYY-MM-DD`), 2000-01-01 to 2030-12-31. */
export function xnysReference(): Map<string, ReferenceSession> {
  const text = readFileSync(new URL("../fixtures/xnys-sessions-2000-2030.txt", import.meta.url), "utf8");
  const sessions = new Map<string, ReferenceSession>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const [head, closed, early] = line.split(" | ") as [string, string, string];
    const [year, count] = head.split(" ").map(Number) as [number, number];
    const closedDays = new Set(closed.split(" "));
    const earlyCloses = new Map(early === "-" ? [] : early.split(" ").map((e) => e.split("@") as [string, string]));
    let n = 0;
    for (let t = Date.UTC(year, 0, 1); new Date(t).getUTCFullYear() === year; t += 86_400_000) {
      const date = new Date(t).toISOString().slice(0, 10);
      const weekday = new Date(t).getUTCDay();
      if (weekday === 0 || weekday === 6 || closedDays.has(date.slice(5))) continue;
      const close = earlyCloses.get(date.slice(5));
      sessions.set(date, {
        open: newYorkInstant(date, 9 * 60 + 30),
        close: newYorkInstant(date, close ? hhmm(close) : 16 * 60),
      });
      n++;
    }
    // The count on each line guards the fixture against a lost or mistyped date.
    if (n !== count) throw new Error(`reference ${year}: ${n} sessions, the fixture says ${count}`);
  }
  return sessions;
}
