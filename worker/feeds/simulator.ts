import { assetClass, marketState, tradingDay, type AssetClass, type MarketState } from "../market/hours";
import { round, type Quote } from "../market/tick";
import type { FeedProvider, QuoteRequest, QuoteResult } from "./provider";
import { normal, uniform } from "./prng";

/** Plausible opening prices so a demo looks like a market; other symbols get a hashed price. */
const START_PRICES: Readonly<Record<string, number>> = {
  AAPL: 228.5, MSFT: 415.2, GOOGL: 172.4, GOOG: 173.9, AMZN: 186.3, META: 560.1, NVDA: 124.6,
  TSLA: 248.9, NFLX: 690.4, AMD: 158.2, INTC: 22.3, IBM: 214.7, ORCL: 171.5, JPM: 214.2,
  V: 279.3, "BRK.B": 452.8, "BRK.A": 679_500, KO: 69.8, DIS: 96.1, NET: 96.7, SPY: 568.4,
  QQQ: 487.9, "^GSPC": 5_702.5, "^DJI": 42_063.4, "^IXIC": 17_948.3, "BTC-USD": 63_250,
  "ETH-USD": 2_620, "SOL-USD": 152.3, "EURUSD=X": 1.1142, "GBPUSD=X": 1.3291, "USDJPY=X": 142.7,
};

// Annualised volatility by asset class during regular trading.
const VOLATILITY: Readonly<Record<AssetClass, number>> = { equity: 0.3, index: 0.18, fx: 0.08, crypto: 0.6 };
// Outside regular hours prices still drift a little so an evening demo is not frozen.
const SESSION_FACTOR: Readonly<Record<MarketState, number>> = { REGULAR: 1, PRE: 0.5, POST: 0.5, CLOSED: 0.25 };
// Demo clock: variance accrues 25x faster than in a real market, so cents move every second.
const TIME_SCALE = 25;
const MS_PER_TRADING_YEAR = 252 * 6.5 * 3_600_000;
// A long idle gap is simulated as at most one day of movement.
const MAX_GAP_MS = 86_400_000;

export function simulatedStartPrice(symbol: string, seed: string): number {
  const known = START_PRICES[symbol];
  if (known !== undefined) return known;
  if (assetClass(symbol) === "fx") return round(0.5 + uniform(`${seed}:${symbol}:start`) * 1.5, 4);
  return round(10 + uniform(`${seed}:${symbol}:start`) * 490, 2);
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

  constructor(
    private readonly seed: string,
    private readonly stepMs: number,
  ) {}

  async quotes(requests: readonly QuoteRequest[], now: number): Promise<QuoteResult[]> {
    return requests.map((r) => ({ symbol: r.symbol, quote: this.quote(r, now) }));
  }

  quote({ symbol, last }: QuoteRequest, now: number): Quote {
    const cls = assetClass(symbol);
    const state = marketState(symbol, now);
    const decimals = cls === "fx" ? 5 : 2;
    const step = Math.floor(now / this.stepMs);
    let price: number;
    let prevClose: number | undefined;
    if (last === undefined) {
      price = simulatedStartPrice(symbol, this.seed);
      // A first quote comes with a previous close about 1.5% away, as a real session would.
      prevClose = round(price * Math.exp(0.015 * normal(`${this.seed}:${symbol}:prevClose`)), decimals);
    } else {
      const dtYears = (Math.min(Math.max(now - last.ts, 0), MAX_GAP_MS) * TIME_SCALE) / MS_PER_TRADING_YEAR;
      const sigma = VOLATILITY[cls] * SESSION_FACTOR[state];
      const z = normal(`${this.seed}:${symbol}:${step}`);
      price = last.price * Math.exp(-0.5 * sigma * sigma * dtYears + sigma * Math.sqrt(dtYears) * z);
    }
    price = Math.max(round(price, decimals), 10 ** -decimals);
    const spread = Math.max(round(price * 0.0002, decimals), 10 ** -decimals);
    const sameDay = last !== undefined && tradingDay(last.ts) === tradingDay(now);
    const traded = state === "REGULAR" ? Math.floor(uniform(`${this.seed}:${symbol}:${step}:vol`) * 5_000) : 0;
    return {
      symbol,
      price,
      ts: now,
      source: this.id,
      bid: round(price - spread / 2, decimals),
      ask: round(price + spread / 2, decimals),
      volume: cls === "fx" ? undefined : (sameDay ? (last.volume ?? 0) : 0) + traded,
      currency: "USD",
      marketState: state,
      prevClose,
    };
  }
}
