import { assetClass } from "../../market/hours";
import { fault } from "../fault";
import { type BatchResult, HttpFeed, quoteOf } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import { getJson } from "../upstream";

const DAY_MS = 86_400_000;

/**
 * Coinbase Exchange `/products/{id}/ticker` (price, book, time; its `volume` is a rolling 24
 * hours) with `/products/{id}/candles?granularity=86400` for the UTC day's volume, open, high
 * and low: two requests per product, so the default budget counts 300 such pairs a minute
 * (Coinbase allows 10 requests a second per address). No key, ISO-8601 times.
 */
export class CoinbaseFeed extends HttpFeed {
  readonly id = "coinbase";
  readonly capabilities = {
    maxSymbolsPerRequest: 1,
    needsKey: false,
    assetClasses: ["crypto"],
    minIntervalMs: 1_000,
    requestsPerMinute: 300,
  } as const;

  protected providerSymbol(symbol: string) {
    return assetClass(symbol) === "crypto"
      ? symbol
      : fault("unsupported", `coinbase serves crypto pairs like BTC-USD, not ${symbol}`);
  }

  protected async fetchBatch([product]: string[]): Promise<BatchResult> {
    const [body, day] = await Promise.all([
      getJson(this.url(`/products/${encodeURIComponent(product!)}/ticker`), {}, this.options) as Promise<
        Record<string, unknown>
      >,
      this.today(product!),
    ]);
    if (price(body.price) === undefined && typeof body.message === "string")
      return new Map([[product!, fault("provider-error", body.message)]]);
    const quoteCurrency = product!.split("-")[1];
    return new Map([
      [
        product!,
        quoteOf({
          price: price(body.price),
          ts: epochMs(body.time),
          bid: price(body.bid),
          ask: price(body.ask),
          volume24h: num(body.volume),
          ...day,
          currency: quoteCurrency && /^[A-Z]{3}$/.test(quoteCurrency) ? quoteCurrency : undefined,
        }),
      ],
    ]);
  }

  /**
   * The UTC day's candle `[time, low, high, open, close, volume]`: its volume is the day's, its
   * open the previous day's close of a market that never closes. Nothing when it cannot be read
   * (the price still stands).
   */
  private async today(product: string) {
    const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    try {
      const candles = await getJson(
        this.url(`/products/${encodeURIComponent(product)}/candles`, {
          granularity: "86400",
          start: new Date(dayStart).toISOString(),
          end: new Date().toISOString(),
        }),
        {},
        this.options,
      );
      const row = Array.isArray(candles)
        ? candles.find((c: unknown) => Array.isArray(c) && num(c[0]) === dayStart / 1000)
        : undefined;
      if (!Array.isArray(row)) return {};
      const [, low, high, open, , volume] = row;
      return { open: price(open), prevClose: price(open), high: price(high), low: price(low), dayVolume: num(volume) };
    } catch {
      return {};
    }
  }
}
