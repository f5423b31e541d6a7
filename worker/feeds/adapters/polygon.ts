import { assetClass } from "../../market/hours";
import { HttpFeed, quoteOf, type BatchResult } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import { getJson } from "../upstream";

/** Polygon full-market snapshot for chosen tickers: nanosecond trade times, `apiKey` as a bearer token. */
export class PolygonFeed extends HttpFeed {
  readonly id = "polygon";
  readonly capabilities = { maxSymbolsPerRequest: 100, needsKey: true, assetClasses: ["equity"], minIntervalMs: 12_000, requestsPerMinute: 5 } as const;

  protected providerSymbol(symbol: string) {
    return assetClass(symbol) === "equity" ? symbol : { unsupported: `polygon stock snapshots serve US equities only, not ${symbol}` };
  }

  protected async fetchBatch(symbols: string[]): Promise<BatchResult> {
    const body = (await getJson(
      this.url("/v2/snapshot/locale/us/markets/stocks/tickers", { tickers: symbols.join(",") }),
      { Authorization: `Bearer ${this.options.key ?? ""}` },
      this.options,
    )) as { status?: string; error?: string; message?: string; tickers?: Array<Record<string, Record<string, unknown> | string | number | undefined>> };
    if (body.status === "ERROR" || body.status === "NOT_AUTHORIZED") {
      const kind = body.status === "NOT_AUTHORIZED" ? "auth" : "provider-error";
      return new Map(symbols.map((s) => [s, `${kind}: ${body.error ?? body.message ?? body.status}`]));
    }
    const out: BatchResult = new Map();
    for (const t of body.tickers ?? []) {
      const ticker = t.ticker;
      if (typeof ticker !== "string") continue;
      const trade = t.lastTrade as Record<string, unknown> | undefined;
      const day = t.day as Record<string, unknown> | undefined;
      const quote = t.lastQuote as Record<string, unknown> | undefined;
      out.set(
        ticker,
        quoteOf({
          price: price(trade?.p) ?? price(day?.c),
          ts: epochMs(trade?.t, "ns") ?? epochMs(t.updated, "ns"),
          open: price(day?.o),
          high: price(day?.h),
          low: price(day?.l),
          volume: num(day?.v),
          prevClose: price((t.prevDay as Record<string, unknown> | undefined)?.c),
          bid: price(quote?.p),
          ask: price(quote?.P),
          currency: "USD",
        }),
      );
    }
    return out;
  }
}
