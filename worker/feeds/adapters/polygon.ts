import type { Bar } from "../../market/bars";
import { assetClass } from "../../market/hours";
import { type Fault, fault } from "../fault";
import { type BatchResult, HttpFeed, quoteOf } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import type { BarHistory } from "../provider";
import { FeedFault, getJson } from "../upstream";

/** The most bars one aggregates request returns (Polygon's documented maximum `limit`). */
const AGGS_LIMIT = 50_000;

/** Polygon full-market snapshot for chosen tickers: nanosecond trade times, `apiKey` as a bearer token. */
export class PolygonFeed extends HttpFeed {
  readonly id = "polygon";
  readonly capabilities = {
    maxSymbolsPerRequest: 100,
    needsKey: true,
    assetClasses: ["equity"],
    minIntervalMs: 12_000,
    requestsPerMinute: 5,
  } as const;

  protected providerSymbol(symbol: string) {
    return assetClass(symbol) === "equity"
      ? symbol
      : fault("unsupported", `polygon stock snapshots serve US equities only, not ${symbol}`);
  }

  protected async fetchBatch(symbols: string[]): Promise<BatchResult> {
    const body = (await getJson(
      this.url("/v2/snapshot/locale/us/markets/stocks/tickers", { tickers: symbols.join(",") }),
      { Authorization: `Bearer ${this.options.key ?? ""}` },
      this.options,
    )) as {
      status?: string;
      error?: string;
      message?: string;
      tickers?: Array<Record<string, Record<string, unknown> | string | number | undefined>>;
    };
    if (body.status === "ERROR" || body.status === "NOT_AUTHORIZED") {
      const kind = body.status === "NOT_AUTHORIZED" ? "auth" : "provider-error";
      return new Map(symbols.map((s) => [s, fault(kind, body.error ?? body.message ?? body.status ?? "error")]));
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

  /**
   * `/v2/aggs/ticker/{T}/range/1/minute/{from}/{to}`: one request, ascending, at most
   * AGGS_LIMIT bars. More pages (`next_url`) or a history starting later than asked (the
   * plan keeps less) make it partial; the pages after the first are not fetched.
   */
  async minuteBars(symbol: string, from: number, to: number): Promise<BarHistory | { fault: Fault }> {
    const mapped = this.providerSymbol(symbol);
    if (typeof mapped !== "string") return { fault: mapped };
    let body: {
      status?: string;
      error?: string;
      message?: string;
      next_url?: string;
      results?: Array<Record<string, unknown>>;
    };
    try {
      body = (await getJson(
        this.url(`/v2/aggs/ticker/${encodeURIComponent(mapped)}/range/1/minute/${from}/${to - 1}`, {
          adjusted: "true",
          sort: "asc",
          limit: String(AGGS_LIMIT),
        }),
        { Authorization: `Bearer ${this.options.key ?? ""}` },
        this.options,
      )) as typeof body;
    } catch (err) {
      if (err instanceof FeedFault) return { fault: err.toFault() };
      throw err;
    }
    if (body.status !== "OK" && body.status !== "DELAYED")
      return { fault: fault("provider-error", body.error ?? body.message ?? body.status ?? "no status") };
    const bars: Bar[] = [];
    for (const r of body.results ?? []) {
      const t = num(r.t);
      const [o, h, l, c] = [price(r.o), price(r.h), price(r.l), price(r.c)];
      if (
        t === undefined ||
        o === undefined ||
        h === undefined ||
        l === undefined ||
        c === undefined ||
        t < from ||
        t >= to
      )
        continue;
      bars.push({ t, o, h, l, c, v: num(r.v) ?? 0, n: num(r.n) ?? 0 });
    }
    const reasons: string[] = [];
    if (body.next_url) reasons.push("more bars than one request returns");
    if (bars.length > 0 && bars[0]!.t > from + 86_400_000)
      reasons.push(`history starts ${new Date(bars[0]!.t).toISOString()}, the plan keeps less`);
    if (bars.length === 0) reasons.push("the provider returned no bars");
    if (body.status === "DELAYED") reasons.push("delayed data: the newest minutes are missing");
    return reasons.length > 0 ? { bars, partial: reasons.join("; ") } : { bars };
  }
}
