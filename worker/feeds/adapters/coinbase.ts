import { assetClass } from "../../market/hours";
import { fault } from "../fault";
import { type BatchResult, HttpFeed, quoteOf } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import { getJson } from "../upstream";

/** Coinbase Exchange `/products/{id}/ticker`: one product per call, no key, ISO-8601 times. */
export class CoinbaseFeed extends HttpFeed {
  readonly id = "coinbase";
  readonly capabilities = {
    maxSymbolsPerRequest: 1,
    needsKey: false,
    assetClasses: ["crypto"],
    minIntervalMs: 1_000,
    requestsPerMinute: 600,
  } as const;

  protected providerSymbol(symbol: string) {
    return assetClass(symbol) === "crypto"
      ? symbol
      : fault("unsupported", `coinbase serves crypto pairs like BTC-USD, not ${symbol}`);
  }

  protected async fetchBatch([product]: string[]): Promise<BatchResult> {
    const body = (await getJson(
      this.url(`/products/${encodeURIComponent(product!)}/ticker`),
      {},
      this.options,
    )) as Record<string, unknown>;
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
          volume: num(body.volume),
          currency: quoteCurrency && /^[A-Z]{3}$/.test(quoteCurrency) ? quoteCurrency : undefined,
        }),
      ],
    ]);
  }
}
