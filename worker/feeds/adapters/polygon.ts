import { type Bar, MINUTE_MS } from "../../market/bars";
import { assetClass } from "../../market/hours";
import { sessionAt, sessionFrom } from "../../market/sessions";
import { type Fault, fault } from "../fault";
import { type BatchResult, HttpFeed, quoteOf } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import type { BarHistory, MissingBars } from "../provider";
import { polygonRule } from "../stream/conditions";
import { FeedFault, getJson } from "../upstream";

/** The most bars one aggregates request returns (Polygon's documented maximum `limit`). */
const AGGS_LIMIT = 50_000;
/** A plan with delayed data (`status: "DELAYED"`) lacks the newest 15 minutes. */
const DELAYED_AGGS_MS = 15 * 60_000;

/** Polygon full-market snapshot for chosen tickers: nanosecond trade times, `apiKey` as a bearer token. */
export class PolygonFeed extends HttpFeed {
  readonly id = "polygon";
  readonly capabilities = {
    maxSymbolsPerRequest: 100,
    needsKey: true,
    assetClasses: ["equity"],
    // Its snapshots are current; the budget (5 a minute on the free tier) spaces the rounds, not a fixed period.
    minIntervalMs: 1_000,
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
          // The newest print may set no last price (odd lot, average price, out of sequence): the day's close then.
          price: (polygonRule(trade?.c).last === "yes" ? price(trade?.p) : price(day?.c)) ?? price(trade?.p),
          ts: epochMs(trade?.t, "ns") ?? epochMs(t.updated, "ns"),
          open: price(day?.o),
          high: price(day?.h),
          low: price(day?.l),
          dayVolume: num(day?.v),
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
   * AGGS_LIMIT bars. What it lacks is said part by part: the sessions before its first bar
   * when the plan keeps less history than asked, the bars after its last when more pages
   * (`next_url`) follow (asked for later), the newest 15 minutes on a delayed plan (asked
   * for once they are there).
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
    const missing = missingOf(symbol, bars, from, to, body.next_url !== undefined, body.status === "DELAYED");
    return missing.length > 0 ? { bars, missing } : { bars };
  }
}

/** The parts of `[from, to)` an aggregates answer lacks. */
export function missingOf(
  symbol: string,
  bars: readonly Bar[],
  from: number,
  to: number,
  morePages: boolean,
  delayed: boolean,
): MissingBars[] {
  const first = bars[0];
  const last = bars.at(-1);
  if (!first || !last) return [{ from, to, reason: "the provider returned no bars" }];
  const missing: MissingBars[] = [];
  // No bar in the first session asked for: the plan keeps less (a session without one trade is not a thing).
  const firstSession = sessionAt(symbol, from) ?? sessionFrom(symbol, from);
  if (firstSession && first.t >= firstSession.close) {
    const kept = sessionAt(symbol, first.t)?.open ?? first.t;
    missing.push({ from, to: kept, reason: `history starts ${new Date(first.t).toISOString()}, the plan keeps less` });
  }
  const now = Date.now();
  if (morePages)
    missing.push({ from: last.t + MINUTE_MS, to, reason: "more bars than one request returns", retryAt: now });
  else if (delayed && now - DELAYED_AGGS_MS < to) {
    const gapFrom = Math.max(from, now - DELAYED_AGGS_MS);
    missing.push({
      from: gapFrom,
      to,
      reason: "delayed data: the newest minutes are missing",
      retryAt: to + DELAYED_AGGS_MS,
    });
  }
  return missing;
}
