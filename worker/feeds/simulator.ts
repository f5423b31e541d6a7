import { volumeDay } from "../market/day-volume";
import { type AssetClass, assetClass, type MarketState, marketState } from "../market/hours";
import { type Quote, round } from "../market/tick";
import { fault } from "./fault";
import { normal, uniform } from "./prng";
import type { FeedProvider, QuoteRequest, QuoteResult } from "./provider";
import { SIM_START_PRICES } from "./sim-universe";

// Annualised volatility by asset class during regular trading.
export const VOLATILITY: Readonly<Record<AssetClass, number>> = { equity: 0.3, index: 0.18, fx: 0.08, crypto: 0.6 };
// Outside regular hours prices still drift a little so an evening demo is not frozen.
export const SESSION_FACTOR: Readonly<Record<MarketState, number>> = { REGULAR: 1, PRE: 0.5, POST: 0.5, CLOSED: 0.25 };
// Demo clock: variance accrues 25x faster than in a real market, so cents move every second.
export const TIME_SCALE = 25;
export const MS_PER_TRADING_YEAR = 252 * 6.5 * 3_600_000;
// A long idle gap is simulated as at most one day of movement.
const MAX_GAP_MS = 86_400_000;

/** A symbol the simulator has a start price for (its universe). */
export function simulatorKnows(symbol: string): boolean {
  return Object.hasOwn(SIM_START_PRICES, symbol);
}

/** The universe's start price; with SIM_UNIVERSE=any, a hashed one for any other symbol. */
export function simulatedStartPrice(symbol: string, seed: string): number {
  const known = SIM_START_PRICES[symbol];
  if (known !== undefined) return known;
  if (assetClass(symbol) === "fx") return round(0.5 + uniform(`${seed}:${symbol}:start`) * 1.5, 4);
  return round(10 + uniform(`${seed}:${symbol}:start`) * 490, 2);
}

/** Decimal places a simulated price keeps: sub-dollar and single-digit prices need more, as do FX rates below 20. */
export function decimalsFor(cls: AssetClass, price: number): number {
  if (cls === "fx") return price >= 20 ? 3 : 5;
  return price < 1 ? 5 : price < 10 ? 4 : 2;
}

/**
 * Geometric Brownian motion. The shock of time step k is a pure function of
 * (seed, symbol, k), so a restarted object continues the same path.
 */
export class SimulatorFeed implements FeedProvider {
  readonly id = "sim";
  readonly capabilities = {
    maxSymbolsPerRequest: Number.POSITIVE_INFINITY,
    needsKey: false,
    assetClasses: ["equity", "index", "fx", "crypto"],
    minIntervalMs: 50,
    requestsPerMinute: Number.POSITIVE_INFINITY,
    continuesFromLast: true,
  } as const;

  /** `anySymbol` (SIM_UNIVERSE=any): every valid symbol gets a price, for load tests with made-up symbols. */
  constructor(
    private readonly seed: string,
    private readonly stepMs: number,
    private readonly anySymbol = false,
  ) {}

  async quotes(requests: readonly QuoteRequest[], now: number): Promise<QuoteResult[]> {
    return requests.map((r) =>
      // A symbol with a tick (one a publisher sent, say) is known from then on: its path continues from it.
      r.last === undefined && !this.anySymbol && !simulatorKnows(r.symbol)
        ? {
            symbol: r.symbol,
            fault: fault(
              "unknown-symbol",
              `${r.symbol} is not a symbol the simulator knows (large US stocks and ETFs, US indices, major crypto pairs and FX crosses such as AAPL, SPY, BTC-USD, EURUSD=X)`,
            ),
          }
        : { symbol: r.symbol, quote: this.quote(r, now) },
    );
  }

  quote({ symbol, last }: QuoteRequest, now: number): Quote {
    const cls = assetClass(symbol);
    const state = marketState(symbol, now);
    const step = Math.floor(now / this.stepMs);
    let price: number;
    let prevClose: number | undefined;
    if (last === undefined) {
      price = simulatedStartPrice(symbol, this.seed);
    } else {
      const dtYears = (Math.min(Math.max(now - last.ts, 0), MAX_GAP_MS) * TIME_SCALE) / MS_PER_TRADING_YEAR;
      const sigma = VOLATILITY[cls] * SESSION_FACTOR[state];
      const z = normal(`${this.seed}:${symbol}:${step}`);
      price = last.price * Math.exp(-0.5 * sigma * sigma * dtYears + sigma * Math.sqrt(dtYears) * z);
    }
    const decimals = decimalsFor(cls, last?.price ?? price);
    price = Math.max(round(price, decimals), 10 ** -decimals);
    // A first quote comes with a previous close about 1.5% away, as a real session would.
    if (last === undefined)
      prevClose = round(price * Math.exp(0.015 * normal(`${this.seed}:${symbol}:prevClose`)), decimals);
    const spread = Math.max(round(price * 0.0002, decimals), 10 ** -decimals);
    const sameDay = last !== undefined && volumeDay(symbol, last.ts) === volumeDay(symbol, now);
    const traded = state === "REGULAR" ? Math.floor(uniform(`${this.seed}:${symbol}:${step}:vol`) * 5_000) : 0;
    return {
      symbol,
      price,
      ts: now,
      source: this.id,
      bid: round(price - spread / 2, decimals),
      ask: round(price + spread / 2, decimals),
      // It knows what traded since the last quote, and the day's total (FX has no volume).
      ...(cls === "fx" ? {} : { size: traded, dayVolume: (sameDay ? (last.dayVolume ?? 0) : 0) + traded }),
      currency: "USD",
      marketState: state,
      prevClose,
    };
  }
}
