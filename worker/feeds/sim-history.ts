import { type Bar, MINUTE_MS } from "../market/bars";
import { type AssetClass, assetClass } from "../market/hours";
import type { Session } from "../market/sessions";
import { round } from "../market/tick";
import { normal, uniform } from "./prng";
import { decimalsFor } from "./simulator";

/** Price points drawn inside each simulated minute (its open, two inner points, its close). */
const POINTS_PER_MINUTE = 4;
/**
 * How far a simulated day of history moves (one standard deviation, open to close), by asset
 * class: a lively real day. Live prices move on a faster demo clock (cents every second);
 * at that pace a day of history would swing 10-30%.
 */
const DAILY_VOLATILITY: Readonly<Record<AssetClass, number>> = { equity: 0.015, index: 0.01, fx: 0.004, crypto: 0.03 };
/** Average volume a simulated live tick adds (`uniform × 5,000` each second), per minute. */
const MINUTE_VOLUME = 2_500 * 60;

/**
 * The simulator's history (pure): one-minute bars for every minute of `sessions` (the
 * market's real sessions: none on a holiday, short on an early close) that ended by `now`, drawn from the same random walk as its live prices (a deterministic
 * function of seed, symbol and time) and scaled so the last close is `endPrice` — the
 * live price the symbol starts from, so live ticks continue the history without a jump.
 */
export function simulatedBars(
  symbol: string,
  seed: string,
  sessions: readonly Session[],
  now: number,
  endPrice: number,
): Bar[] {
  const cls = assetClass(symbol);
  const bars: Bar[] = [];
  // Log prices relative to the start; shifted to end at endPrice below.
  let x = 0;
  for (const session of sessions) {
    // The day's volatility spread over its steps: a 24-hour crypto day moves as much as its target, not 3.7 equity days' worth.
    const steps = ((session.close - session.open) / MINUTE_MS) * POINTS_PER_MINUTE;
    const step = DAILY_VOLATILITY[cls] / Math.sqrt(steps);
    // Overnight: a larger move between sessions.
    x += 0.005 * normal(`${seed}:${symbol}:gap:${session.day}`);
    for (let t = session.open; t + MINUTE_MS <= Math.min(session.close, now); t += MINUTE_MS) {
      const open = x;
      let high = x;
      let low = x;
      for (let k = 1; k <= POINTS_PER_MINUTE; k++) {
        x += step * normal(`${seed}:${symbol}:bar:${t}:${k}`);
        high = Math.max(high, x);
        low = Math.min(low, x);
      }
      const v = cls === "fx" ? 0 : Math.round(MINUTE_VOLUME * (0.5 + uniform(`${seed}:${symbol}:vol:${t}`)));
      bars.push({ t, o: open, h: high, l: low, c: x, v, n: 60 });
    }
  }
  const shift = Math.log(endPrice) - x;
  const decimals = decimalsFor(cls, endPrice);
  const price = (lx: number) => Math.max(round(Math.exp(lx + shift), decimals), 10 ** -decimals);
  return bars.map((b) => ({ ...b, o: price(b.o), h: price(b.h), l: price(b.l), c: price(b.c) }));
}
