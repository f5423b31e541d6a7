/**
 * Trading calendar for the simulator and for `marketState`: US equity sessions in
 * New York time (pre 04:00, regular 09:30-16:00, post until 20:00, weekdays), FX
 * around the clock on weekdays, crypto always. NYSE half days close at 13:00; holidays are not
 * modelled.
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

/** New York's UTC offset in hours at `ts`: US DST runs from the 2nd Sunday of March to the 1st of November, 02:00 local. */
export function newYorkOffsetHours(ts: number): number {
  const year = new Date(ts).getUTCFullYear();
  const dstStart = Date.UTC(year, 2, nthSunday(year, 2, 2), 7); // 02:00 EST
  const dstEnd = Date.UTC(year, 10, nthSunday(year, 10, 1), 6); // 02:00 EDT
  return ts >= dstStart && ts < dstEnd ? -4 : -5;
}

function nthSunday(year: number, month: number, n: number): number {
  const firstDow = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return 1 + ((7 - firstDow) % 7) + (n - 1) * 7;
}

/** New York wall-clock view of `ts`: ISO date, weekday (0 = Sunday) and minutes since midnight. */
export function newYorkClock(ts: number): { date: string; weekday: number; minutes: number } {
  const local = new Date(ts + newYorkOffsetHours(ts) * 3_600_000);
  return {
    date: local.toISOString().slice(0, 10),
    weekday: local.getUTCDay(),
    minutes: local.getUTCHours() * 60 + local.getUTCMinutes(),
  };
}

/** The regular close of an equity day, in minutes past midnight New York time. */
export function equityCloseMinutes(date: string): number {
  return isHalfDay(date) ? 13 * 60 : 16 * 60;
}

export function marketState(symbol: string, ts: number): MarketState {
  const cls = assetClass(symbol);
  if (cls === "crypto") return "REGULAR";
  const { date, weekday, minutes } = newYorkClock(ts);
  if (cls === "fx") {
    // FX trades from Sunday 17:00 to Friday 17:00 New York time.
    const closed = weekday === 6 || (weekday === 5 && minutes >= 17 * 60) || (weekday === 0 && minutes < 17 * 60);
    return closed ? "CLOSED" : "REGULAR";
  }
  if (weekday === 0 || weekday === 6) return "CLOSED";
  const close = equityCloseMinutes(date);
  if (minutes >= 9 * 60 + 30 && minutes < close) return "REGULAR";
  if (cls === "index") return "CLOSED";
  if (minutes >= 4 * 60 && minutes < 9 * 60 + 30) return "PRE";
  if (minutes >= close && minutes < 20 * 60) return "POST";
  return "CLOSED";
}

/** The trading day a tick belongs to (New York date); a new day rolls open/high/low/prevClose. */
export function tradingDay(ts: number): string {
  return newYorkClock(ts).date;
}

/** Whether NYSE closes early (13:00) on the New York date `date` (`YYYY-MM-DD`). */
export function isHalfDay(date: string): boolean {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  // The day before Independence Day, Christmas Eve, the Friday after Thanksgiving (the
  // fourth Thursday of November falls on the 22nd to the 28th).
  if ((m === 7 && d === 3) || (m === 12 && d === 24)) return true;
  return m === 11 && weekday === 5 && d >= 23 && d <= 29;
}
