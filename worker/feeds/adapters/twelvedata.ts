import { assetClass } from "../../market/hours";
import { fault } from "../fault";
import { type BatchResult, HttpFeed, quoteOf } from "../http-feed";
import { epochMs, num, price } from "../normalize";
import { getJson } from "../upstream";

/**
 * Twelve Data `/quote?symbol=A,B`: comma-separated batch (one credit per symbol),
 * `Authorization: apikey …`, numbers as strings, errors as HTTP 200 `{"status":"error"}`.
 */
export class TwelveDataFeed extends HttpFeed {
  readonly id = "twelvedata";
  readonly capabilities = {
    maxSymbolsPerRequest: 8,
    needsKey: true,
    assetClasses: ["equity", "fx", "crypto"],
    minIntervalMs: 60_000,
    requestsPerMinute: 8,
  } as const;

  protected providerSymbol(symbol: string) {
    switch (assetClass(symbol)) {
      case "equity":
        return symbol;
      case "fx": // EURUSD=X → EUR/USD
        return `${symbol.slice(0, 3)}/${symbol.slice(3, 6)}`;
      case "crypto": // BTC-USD → BTC/USD
        return symbol.replace("-", "/");
      default:
        return fault("unsupported", `twelvedata does not serve index ${symbol}`);
    }
  }

  protected async fetchBatch(symbols: string[]): Promise<BatchResult> {
    const body = (await getJson(
      this.url("/quote", { symbol: symbols.join(",") }),
      { Authorization: `apikey ${this.options.key ?? ""}` },
      this.options,
    )) as Record<string, unknown>;
    if (body.status === "error") {
      // A top-level error covers the whole request (bad key, out of credits, ...).
      const code = num(body.code);
      const kind = code === 401 || code === 403 ? "auth" : code === 429 ? "rate-limit" : "provider-error";
      return new Map(symbols.map((s) => [s, fault(kind, String(body.message ?? "error"))]));
    }
    // One symbol: the quote itself; several: keyed by symbol.
    const entries: Record<string, unknown> = symbols.length === 1 ? { [symbols[0]!]: body } : body;
    const out: BatchResult = new Map();
    for (const s of symbols) {
      const q = entries[s] as Record<string, unknown> | undefined;
      if (!q || q.status === "error") {
        out.set(s, fault("unknown-symbol", String(q?.message ?? "twelvedata has no quote for it")));
        continue;
      }
      out.set(
        s,
        quoteOf({
          price: price(q.close),
          ts: epochMs(q.timestamp, "s"),
          open: price(q.open),
          high: price(q.high),
          low: price(q.low),
          prevClose: price(q.previous_close),
          dayVolume: num(q.volume),
          currency: typeof q.currency === "string" && /^[A-Z]{3}$/.test(q.currency) ? q.currency : undefined,
        }),
      );
    }
    return out;
  }
}
