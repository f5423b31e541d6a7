import { assetClass } from "../../market/hours";
import { HttpFeed, quoteOf, type BatchResult } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import { getJson } from "../upstream";

/** Binance `/api/v3/ticker/24hr?symbols=[…]`: up to 100 per call, no key, ms times; BTC-USD ↔ BTCUSDT. */
export class BinanceFeed extends HttpFeed {
  readonly id = "binance";
  readonly capabilities = { maxSymbolsPerRequest: 100, needsKey: false, assetClasses: ["crypto"], minIntervalMs: 1_000, requestsPerMinute: 60 } as const;

  protected providerSymbol(symbol: string) {
    if (assetClass(symbol) !== "crypto") return { unsupported: `binance serves crypto pairs like BTC-USD, not ${symbol}` };
    const [base, quote] = symbol.split("-");
    // Binance quotes against the USDT stablecoin where others use USD.
    return `${base}${quote === "USD" ? "USDT" : quote}`;
  }

  protected async fetchBatch(symbols: string[]): Promise<BatchResult> {
    const body = await getJson(this.url("/api/v3/ticker/24hr", { symbols: JSON.stringify(symbols) }), {}, this.options);
    if (!Array.isArray(body)) {
      const msg = (body as { msg?: unknown }).msg;
      // An unknown symbol fails the whole batch (-1121): report it per symbol.
      return new Map(symbols.map((s) => [s, `provider-error: ${typeof msg === "string" ? msg : "unexpected response"}`]));
    }
    const out: BatchResult = new Map();
    for (const t of body as Array<Record<string, unknown>>) {
      const symbol = t.symbol;
      if (typeof symbol !== "string") continue;
      out.set(
        symbol,
        quoteOf({
          price: price(t.lastPrice),
          ts: epochMs(t.closeTime),
          open: price(t.openPrice),
          high: price(t.highPrice),
          low: price(t.lowPrice),
          prevClose: price(t.prevClosePrice),
          volume: num(t.volume),
          bid: price(t.bidPrice),
          ask: price(t.askPrice),
          currency: "USD",
        }),
      );
    }
    return out;
  }
}
