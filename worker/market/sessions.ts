import { type AssetClass, addDays, assetClass, FX_ROLL, fxTrades, newYorkOffsetHours, tradingDay } from "./hours";
import { XNYS_OPEN, xnysDay } from "./xnys";

/**
 * The sessions bars are built in, on each market's own clock (pure):
 * - equities and indices: NYSE's regular sessions on its calendar (`xnys.ts`), 09:30 to
 *   16:00 New York time, to 13:00 on early closes, none on holidays;
 * - FX: Sunday 17:00 to Friday 17:00 New York time, a day running from 17:00 to 17:00 and
 *   named by the date it ends on (Monday to Friday, not Christmas Day nor New Year's Day);
 * - crypto: always, a day per UTC date.
 * A tick outside every session makes no bar.
 */
export interface Session {
  /** The trading day's name, `YYYY-MM-DD`. */
  readonly day: string;
  /** Epoch ms of its open (inclusive) and close (exclusive). */
  readonly open: number;
  readonly close: number;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Epoch ms of `minutes` past midnight, New York time, on the date `date` (`YYYY-MM-DD`). */
export function newYorkTime(date: string, minutes: number): number {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  // The offset at the local time itself: sessions never start or end in the 02:00 DST hour.
  const guess = utcMidnight + minutes * MINUTE_MS + 5 * 3_600_000;
  return utcMidnight + minutes * MINUTE_MS - newYorkOffsetHours(guess) * 3_600_000;
}

function isoDate(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

/** Sessions by class and day once worked out (`null`: none that day); bounded, cleared when full. */
const sessionsByDay = new Map<string, Session | null>();

/** The session named `day` for an asset class, or nothing when that date has none. */
export function sessionOfDay(cls: AssetClass, day: string): Session | undefined {
  const key = `${cls} ${day}`;
  let session = sessionsByDay.get(key);
  if (session === undefined) {
    session = workOut(cls, day) ?? null;
    if (sessionsByDay.size >= 4_096) sessionsByDay.clear();
    sessionsByDay.set(key, session);
  }
  return session ?? undefined;
}

function workOut(cls: AssetClass, day: string): Session | undefined {
  switch (cls) {
    case "crypto": {
      const open = Date.parse(`${day}T00:00:00Z`);
      return { day, open, close: open + DAY_MS };
    }
    case "fx":
      return fxTrades(day)
        ? { day, open: newYorkTime(addDays(day, -1), FX_ROLL), close: newYorkTime(day, FX_ROLL) }
        : undefined;
    case "equity":
    case "index": {
      const exchange = xnysDay(day);
      return exchange.kind === "session"
        ? { day, open: newYorkTime(day, XNYS_OPEN), close: newYorkTime(day, exchange.close) }
        : undefined;
    }
  }
}

/**
 * The session each asset class last answered: ticks come in runs within one session, and a
 * class's sessions never overlap, so a tick inside it needs no calendar work.
 */
const lastSession = new Map<AssetClass, Session>();

/** The session `ts` falls in, or nothing (outside trading hours). */
export function sessionAt(symbol: string, ts: number): Session | undefined {
  const cls = assetClass(symbol);
  const last = lastSession.get(cls);
  if (last && ts >= last.open && ts < last.close) return last;
  // The candidate days: the New York date and the next one (an FX day starts the evening before).
  const nyDate = tradingDay(ts);
  const candidates = cls === "crypto" ? [isoDate(ts)] : [nyDate, addDays(nyDate, 1)];
  for (const day of candidates) {
    const s = sessionOfDay(cls, day);
    if (s && ts >= s.open && ts < s.close) {
      lastSession.set(cls, s);
      return s;
    }
  }
  return undefined;
}

/**
 * The last `count` sessions that opened at or before `ts`, oldest first (the one in
 * progress included): what BAR_DAYS keeps and what a backfill covers.
 */
export function recentSessions(symbol: string, ts: number, count: number): Session[] {
  const cls = assetClass(symbol);
  const out: Session[] = [];
  // Start a day ahead (an FX day is named by its end) and walk back past weekends, holidays and
  // closures (the longest, 2001-09-11 to 09-16, is six days).
  let day = addDays(isoDate(ts), 1);
  for (let guard = 0; out.length < count && guard < count * 3 + 14; guard++, day = addDays(day, -1)) {
    const s = sessionOfDay(cls, day);
    if (s && s.open <= ts) out.push(s);
  }
  return out.reverse();
}

/** The first session that opens at or after `ts`, if one does within a fortnight. */
export function sessionFrom(symbol: string, ts: number): Session | undefined {
  const cls = assetClass(symbol);
  // From the day before (a crypto day is named by its UTC date, which may be New York's next one).
  let day = addDays(tradingDay(ts), -1);
  for (let guard = 0; guard < 16; guard++, day = addDays(day, 1)) {
    const s = sessionOfDay(cls, day);
    if (s && s.open >= ts) return s;
  }
  return undefined;
}
