import { assetClass } from "../../market/hours";
import { fault } from "../fault";
import { type BatchResult, HttpFeed, type HttpFeedOptions, quoteOf } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import { alpacaRule } from "../stream/conditions";
import { getJson } from "../upstream";

/** Alpaca `/v2/stocks/snapshots?symbols=…`: key id + secret headers, RFC 3339 (ns) times, IEX feed by default. */
export class AlpacaFeed extends HttpFeed {
  readonly id = "alpaca";
  readonly capabilities = {
    maxSymbolsPerRequest: 100,
    needsKey: true,
    assetClasses: ["equity"],
    minIntervalMs: 1_000,
    requestsPerMinute: 200,
  } as const;

  constructor(
    options: HttpFeedOptions,
    private readonly dataFeed = "iex",
  ) {
    super(options);
  }

  protected providerSymbol(symbol: string) {
    return assetClass(symbol) === "equity"
      ? symbol
      : fault("unsupported", `alpaca stock snapshots serve US equities only, not ${symbol}`);
  }

  protected async fetchBatch(symbols: string[]): Promise<BatchResult> {
    const body = (await getJson(
      this.url("/v2/stocks/snapshots", { symbols: symbols.join(","), feed: this.dataFeed }),
      { "APCA-API-KEY-ID": this.options.key ?? "", "APCA-API-SECRET-KEY": this.options.secret ?? "" },
      this.options,
    )) as Record<string, Record<string, Record<string, unknown> | undefined> | null | undefined>;
    const out: BatchResult = new Map();
    for (const s of symbols) {
      const snap = body[s];
      if (!snap) {
        out.set(s, fault("unknown-symbol", "alpaca has no snapshot for it"));
        continue;
      }
      const trade = snap.latestTrade;
      const day = snap.dailyBar;
      out.set(
        s,
        quoteOf({
          // The newest print may set no last price (odd lot, average price, out of sequence): the day's close then.
          price: (alpacaRule(trade?.c, trade?.z).last === "yes" ? price(trade?.p) : price(day?.c)) ?? price(trade?.p),
          ts: epochMs(trade?.t),
          open: price(day?.o),
          high: price(day?.h),
          low: price(day?.l),
          dayVolume: num(day?.v),
          prevClose: price(snap.prevDailyBar?.c),
          bid: price(snap.latestQuote?.bp),
          ask: price(snap.latestQuote?.ap),
          currency: "USD",
        }),
      );
    }
    return out;
  }
}
