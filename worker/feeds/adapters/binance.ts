import { assetClass } from "../../market/hours";
import { fault } from "../fault";
import { type BatchResult, HttpFeed, quoteOf } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import { FeedFault, getJson } from "../upstream";

/**
 * Binance `/api/v3/ticker/tradingDay?symbols=[…]`: the UTC day's figures (its `volume` is the
 * day's, where `ticker/24hr`'s is a rolling window that falls), up to 100 per call, no key;
 * BTC-USD ↔ BTCUSDT. It names no trade time or book: the answer's time, and the stream's bid/ask.
 */
export class BinanceFeed extends HttpFeed {
  readonly id = "binance";
  readonly capabilities = {
    maxSymbolsPerRequest: 100,
    needsKey: false,
    assetClasses: ["crypto"],
    minIntervalMs: 1_000,
    requestsPerMinute: 60,
  } as const;

  protected providerSymbol(symbol: string) {
    if (assetClass(symbol) !== "crypto")
      return fault("unsupported", `binance serves crypto pairs like BTC-USD, not ${symbol}`);
    const [base, quote] = symbol.split("-");
    // Binance quotes against the USDT stablecoin where others use USD.
    return `${base}${quote === "USD" ? "USDT" : quote}`;
  }

  protected async fetchBatch(symbols: string[]): Promise<BatchResult> {
    let body: unknown;
    try {
      body = await getJson(
        this.url("/api/v3/ticker/tradingDay", { symbols: JSON.stringify(symbols), timeZone: "0" }),
        {},
        this.options,
      );
    } catch (err) {
      // Binance answers an invalid symbol with HTTP 400 and code -1121.
      if (!(err instanceof FeedFault) || (err.body as { code?: unknown } | undefined)?.code !== -1121) throw err;
      body = err.body;
    }
    if (!Array.isArray(body)) {
      const { code, msg } = body as { code?: unknown; msg?: unknown };
      // One invalid symbol fails the whole batch (-1121): ask for each alone, so only it fails.
      if (code === -1121 && symbols.length > 1) {
        const singles = await Promise.all(symbols.map((s) => this.fetchBatch([s])));
        return new Map(singles.flatMap((m) => [...m]));
      }
      const reason = typeof msg === "string" ? msg : "unexpected response";
      return new Map(symbols.map((s) => [s, fault(code === -1121 ? "unknown-symbol" : "provider-error", reason)]));
    }
    const out: BatchResult = new Map();
    for (const t of body as Array<Record<string, unknown>>) {
      const symbol = t.symbol;
      if (typeof symbol !== "string") continue;
      out.set(
        symbol,
        quoteOf({
          price: price(t.lastPrice),
          // The day's close time is the end of the day: the answer is as of now.
          ts: Math.min(epochMs(t.closeTime) ?? Date.now(), Date.now()),
          open: price(t.openPrice),
          high: price(t.highPrice),
          low: price(t.lowPrice),
          // A market that never closes: the previous day's close is this day's open.
          prevClose: price(t.openPrice),
          dayVolume: num(t.volume),
          currency: "USD",
        }),
      );
    }
    return out;
  }
}
