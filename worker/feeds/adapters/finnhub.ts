import { assetClass } from "../../market/hours";
import { fault } from "../fault";
import { type BatchResult, HttpFeed, quoteOf } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import { getJson } from "../upstream";

/** Finnhub `/api/v1/quote`: one symbol per call, `X-Finnhub-Token`, seconds timestamps. */
export class FinnhubFeed extends HttpFeed {
  readonly id = "finnhub";
  readonly capabilities = {
    maxSymbolsPerRequest: 1,
    needsKey: true,
    assetClasses: ["equity"],
    minIntervalMs: 1_000,
    requestsPerMinute: 60,
  } as const;

  protected providerSymbol(symbol: string) {
    return assetClass(symbol) === "equity"
      ? symbol
      : fault("unsupported", `finnhub quotes serve US equities only, not ${symbol}`);
  }

  protected async fetchBatch([symbol]: string[]): Promise<BatchResult> {
    const body = (await getJson(
      this.url("/api/v1/quote", { symbol: symbol! }),
      { "X-Finnhub-Token": this.options.key ?? "" },
      this.options,
    )) as Record<string, unknown>;
    if (typeof body.error === "string") return new Map([[symbol!, fault("provider-error", body.error)]]);
    // Unknown symbols come back as HTTP 200 with every field zero.
    if (num(body.c) === 0 && num(body.t) === 0)
      return new Map([[symbol!, fault("unknown-symbol", "finnhub has no quote for it")]]);
    return new Map([
      [
        symbol!,
        quoteOf({
          price: price(body.c),
          ts: epochMs(body.t, "s"),
          open: price(body.o),
          high: price(body.h),
          low: price(body.l),
          prevClose: price(body.pc),
          currency: "USD",
        }),
      ],
    ]);
  }
}
