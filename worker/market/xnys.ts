/**
 * The New York Stock Exchange's calendar (XNYS; Nasdaq keeps the same days), pure: which
 * New York dates are sessions and when each closes, as rules (the holidays and early
 * closes the exchange's rules define, each with the year it started or ended) plus data
 * (the closures announced one at a time). Exact from 1998, Martin Luther King Jr. Day's
 * first year; checked against exchange_calendars' XNYS sessions for every day of
 * 2000-2030 (test/unit/xnys.test.ts). A closure announced later (a national day of
 * mourning, a storm) is one line in SPECIAL_CLOSURES.
 */

/** What the exchange does on a New York date. */
export type XnysDay =
  | { kind: "closed"; why: string }
  /** A session from 09:30; `close` in minutes past midnight New York time, `early` says why it is short. */
  | { kind: "session"; close: number; early?: string };

/** The opening, regular closing and early closing times, in minutes past midnight New York time. */
export const XNYS_OPEN = 9 * 60 + 30;
export const XNYS_CLOSE = 16 * 60;
export const XNYS_EARLY_CLOSE = 13 * 60;

const [SUN, MON, TUE, WED, THU, FRI, SAT] = [0, 1, 2, 3, 4, 5, 6] as const;

/** A month and day of one year (month 1-12). */
type MonthDay = readonly [month: number, day: number];

interface Rule {
  name: string;
  /** First and last years the rule applies (inclusive). */
  from?: number;
  until?: number;
  date: (year: number) => MonthDay;
  /**
   * How a date on a weekend moves: `nearest-weekday` (Saturday to Friday, Sunday to Monday)
   * or `sunday-to-monday` (a Saturday holiday is not observed: NYSE Rule 7.2 keeps the
   * exchange open on the Friday when it ends an accounting period, as Dec 31 does).
   */
  observe?: "nearest-weekday" | "sunday-to-monday";
  /** Early closes only: the weekdays the date closes early on (otherwise a full session or closed). */
  weekdays?: readonly number[];
}

const fixed = (month: number, day: number) => (): MonthDay => [month, day];

/** The `n`th `weekday` of `month` (n = -1: the last). */
const nth = (month: number, weekday: number, n: number) => (year: number) => nthWeekday(year, month, weekday, n);

function nthWeekday(year: number, month: number, weekday: number, n: number): MonthDay {
  if (n < 0) {
    const last = new Date(Date.UTC(year, month, 0));
    return [month, last.getUTCDate() - ((last.getUTCDay() - weekday + 7) % 7)];
  }
  const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  return [month, 1 + ((weekday - first + 7) % 7) + (n - 1) * 7];
}

/** Western Easter Sunday (the Gregorian computus, "Anonymous Gregorian algorithm"). */
export function easterSunday(year: number): MonthDay {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const h = (19 * a + b - Math.floor(b / 4) - Math.floor((8 * b + 13) / 25) + 15) % 30;
  const l = (32 + 2 * (b % 4) + 2 * Math.floor(c / 4) - h - (c % 4)) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  return [month, ((h + l - 7 * m + 114) % 31) + 1];
}

const goodFriday = (year: number): MonthDay => shift(year, easterSunday(year), -2);
const dayAfterThanksgiving = (year: number): MonthDay => shift(year, nthWeekday(year, 11, THU, 4), 1);

function shift(year: number, [month, day]: MonthDay, days: number): MonthDay {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return [d.getUTCMonth() + 1, d.getUTCDate()];
}

/** Full-day holidays (NYSE Rule 7.2 and the exchange's published calendars). */
const HOLIDAYS: readonly Rule[] = [
  { name: "New Year's Day", date: fixed(1, 1), observe: "sunday-to-monday" },
  { name: "Martin Luther King Jr. Day", from: 1998, date: nth(1, MON, 3) },
  { name: "Washington's Birthday", date: nth(2, MON, 3) },
  { name: "Good Friday", date: goodFriday },
  { name: "Memorial Day", date: nth(5, MON, -1) },
  { name: "Juneteenth", from: 2022, date: fixed(6, 19), observe: "nearest-weekday" },
  { name: "Independence Day", date: fixed(7, 4), observe: "nearest-weekday" },
  { name: "Labor Day", date: nth(9, MON, 1) },
  { name: "Thanksgiving Day", date: nth(11, THU, 4) },
  { name: "Christmas Day", date: fixed(12, 25), observe: "nearest-weekday" },
];

/**
 * Early closes at 13:00, only on the weekdays named: the eve of Independence Day closes early
 * only when the 4th is a weekday after it (a Friday July 3 is itself the observed holiday);
 * until 2012 a Thursday July 4 made Friday the 5th short, since 2013 Wednesday the 3rd;
 * Christmas Eve only Monday to Thursday (a Friday Dec 24 is the observed Christmas).
 */
const EARLY_CLOSES: readonly Rule[] = [
  { name: "Independence Day eve", date: fixed(7, 3), weekdays: [MON, TUE, THU] },
  { name: "Independence Day eve", from: 2013, date: fixed(7, 3), weekdays: [WED] },
  { name: "Day after Independence Day", until: 2012, date: fixed(7, 5), weekdays: [FRI] },
  { name: "Day after Thanksgiving", date: dayAfterThanksgiving },
  { name: "Christmas Eve", date: fixed(12, 24), weekdays: [MON, TUE, WED, THU] },
];

/** Closures the exchange announced one at a time (since 1998). */
const SPECIAL_CLOSURES: Readonly<Record<string, string>> = {
  "2001-09-11": "September 11 attacks",
  "2001-09-12": "September 11 attacks",
  "2001-09-13": "September 11 attacks",
  "2001-09-14": "September 11 attacks",
  "2004-06-11": "National Day of Mourning for Ronald Reagan",
  "2007-01-02": "National Day of Mourning for Gerald Ford",
  "2012-10-29": "Hurricane Sandy",
  "2012-10-30": "Hurricane Sandy",
  "2018-12-05": "National Day of Mourning for George H. W. Bush",
  "2025-01-09": "National Day of Mourning for Jimmy Carter",
};

/** Early closes the exchange announced one at a time (since 1998). */
const SPECIAL_EARLY_CLOSES: Readonly<Record<string, string>> = {
  "1999-12-31": "New Year's Eve 1999",
  "2003-12-26": "Day after Christmas 2003",
};

function applies(rule: Rule, year: number): boolean {
  return (rule.from === undefined || year >= rule.from) && (rule.until === undefined || year <= rule.until);
}

function observed(year: number, rule: Rule): MonthDay {
  const date = rule.date(year);
  const weekday = weekdayOf(year, date);
  if (weekday === SUN) return shift(year, date, 1);
  if (weekday === SAT && rule.observe === "nearest-weekday") return shift(year, date, -1);
  return date;
}

function weekdayOf(year: number, [month, day]: MonthDay): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

const key = ([month, day]: MonthDay) => `${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;

/** The days of one year that are not regular weekday sessions, by `MM-DD` (weekends aside). */
function exceptionsOf(year: number): ReadonlyMap<string, XnysDay> {
  const out = new Map<string, XnysDay>();
  for (const rule of EARLY_CLOSES) {
    if (!applies(rule, year)) continue;
    const date = rule.date(year);
    if (rule.weekdays && !rule.weekdays.includes(weekdayOf(year, date))) continue;
    out.set(key(date), { kind: "session", close: XNYS_EARLY_CLOSE, early: rule.name });
  }
  // Holidays after early closes: a closed day is never a short one.
  for (const rule of HOLIDAYS) {
    if (applies(rule, year)) out.set(key(observed(year, rule)), { kind: "closed", why: rule.name });
  }
  return out;
}

/** Years already worked out (a few at most are ever asked for; cleared if that changes). */
const years = new Map<number, ReadonlyMap<string, XnysDay>>();

function exceptions(year: number): ReadonlyMap<string, XnysDay> {
  let table = years.get(year);
  if (!table) {
    if (years.size >= 64) years.clear();
    table = exceptionsOf(year);
    years.set(year, table);
  }
  return table;
}

const REGULAR: XnysDay = { kind: "session", close: XNYS_CLOSE };

/** What NYSE does on the New York date `date` (`YYYY-MM-DD`). */
export function xnysDay(date: string): XnysDay {
  const year = Number(date.slice(0, 4));
  const md: MonthDay = [Number(date.slice(5, 7)), Number(date.slice(8, 10))];
  const weekday = weekdayOf(year, md);
  if (weekday === SAT || weekday === SUN) return { kind: "closed", why: "weekend" };
  const closure = SPECIAL_CLOSURES[date];
  if (closure) return { kind: "closed", why: closure };
  const ruled = exceptions(year).get(key(md));
  if (ruled) return ruled;
  const early = SPECIAL_EARLY_CLOSES[date];
  return early ? { kind: "session", close: XNYS_EARLY_CLOSE, early } : REGULAR;
}
