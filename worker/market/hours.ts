import { XNYS_OPEN, xnysDay } from "./xnys";

/**
 * Trading hours for the simulator and for `marketState`: US equities on NYSE's calendar
 * (`xnys.ts`) in New York time (pre from 04:00, regular 09:30-16:00, post until 20:00;
 * on an early close regular to 13:00 and post to 17:00; nothing on holidays), FX from
 * Sunday 17:00 to Friday 17:00 New York time except Christmas Day and New Year's Day,
 * crypto always.
 */

export type MarketState = "PRE" | "REGULAR" | "POST" | "CLOSED";
export type AssetClass = "equity" | "index" | "fx" | "crypto";

const CRYPTO_QUOTES = /-(USD|USDT|USDC|EUR|GBP|BTC|ETH)$/;

export function assetClass(symbol: string): AssetClass {
  if (symbol.startsWith("^")) return "index";
  if (symbol.endsWith("=X")) return "fx";
  if (CRYPTO_QUOTES.test(symbol)) return "crypto";
  return "equity";
}

/**
 * New York's UTC offset in hours at `ts`, 02:00 local: since 2007 DST runs from the 2nd Sunday
 * of March to the 1st of November; from 1987 to 2006 from the 1st Sunday of April to the last
 * of October.
 */
export function newYorkOffsetHours(ts: number): number {
  const [dstStart, dstEnd] = dstOf(new Date(ts).getUTCFullYear());
  return ts >= dstStart && ts < dstEnd ? -4 : -5;
}

/** Each year's DST bounds once: every tick's session look-up asks for them (a few years at most). */
const dstBounds = new Map<number, readonly [number, number]>();

function dstOf(year: number): readonly [number, number] {
  const known = dstBounds.get(year);
  if (known) return known;
  const [startMonth, startN, endMonth, endN] = year >= 2007 ? [2, 2, 10, 1] : [3, 1, 9, -1];
  const bounds = [
    Date.UTC(year, startMonth, nthSunday(year, startMonth, startN), 7), // 02:00 EST
    Date.UTC(year, endMonth, nthSunday(year, endMonth, endN), 6), // 02:00 EDT
  ] as const;
  if (dstBounds.size >= 64) dstBounds.clear();
  dstBounds.set(year, bounds);
  return bounds;
}

/** The day of month of the `n`th Sunday of `month` (0-11; n = -1: the last). */
function nthSunday(year: number, month: number, n: number): number {
  if (n < 0) {
    const last = new Date(Date.UTC(year, month + 1, 0));
    return last.getUTCDate() - last.getUTCDay();
  }
  const firstDow = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return 1 + ((7 - firstDow) % 7) + (n - 1) * 7;
}

/** New York wall-clock view of `ts`: ISO date and minutes since midnight. */
export function newYorkClock(ts: number): { date: string; minutes: number } {
  const local = new Date(ts + newYorkOffsetHours(ts) * 3_600_000);
  return { date: local.toISOString().slice(0, 10), minutes: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

/** When an FX day ends and the next begins, in minutes past midnight New York time. */
export const FX_ROLL = 17 * 60;

/**
 * Whether the FX day named `date` (the 24 hours to 17:00 New York time that day) trades:
 * Monday to Friday, except Christmas Day and New Year's Day: the interbank market and the
 * venues close from 17:00 the evening before and reopen at 17:00 for the next day (docs/bars.md).
 */
export function fxTrades(date: string): boolean {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  const monthDay = date.slice(5);
  return weekday !== 0 && weekday !== 6 && monthDay !== "12-25" && monthDay !== "01-01";
}

export function marketState(symbol: string, ts: number): MarketState {
  const cls = assetClass(symbol);
  if (cls === "crypto") return "REGULAR";
  const { date, minutes } = newYorkClock(ts);
  if (cls === "fx") {
    // From 17:00 the time belongs to the next date's FX day.
    return fxTrades(minutes < FX_ROLL ? date : addDays(date, 1)) ? "REGULAR" : "CLOSED";
  }
  const day = xnysDay(date);
  if (day.kind === "closed") return "CLOSED";
  if (minutes >= XNYS_OPEN && minutes < day.close) return "REGULAR";
  if (cls === "index") return "CLOSED";
  if (minutes >= 4 * 60 && minutes < XNYS_OPEN) return "PRE";
  // Late trading ends at 20:00, or 17:00 after an early close (the exchanges' holiday notices).
  if (minutes >= day.close && minutes < (day.early ? 17 * 60 : 20 * 60)) return "POST";
  return "CLOSED";
}

/** The date `days` after `date` (both `YYYY-MM-DD`). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The trading day a tick belongs to (New York date); a new day rolls open/high/low/prevClose. */
export function tradingDay(ts: number): string {
  return newYorkClock(ts).date;
}
