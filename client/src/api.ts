import type { Interval } from "../../worker/market/bars";
import { EdgeTickerError, type HttpErrorCode } from "./errors";
import type { BarsAnswer, HistoryAnswer, QuotesAnswer, SymbolsAnswer } from "./types";

/** `GET /api/bars` parameters: an interval, a range in epoch ms, and at most how many bars. */
export interface BarsQuery {
  interval?: Interval;
  from?: number;
  to?: number;
  limit?: number;
}

/**
 * The HTTP API, typed. Each call carries the client's token (`Authorization: Bearer`) and
 * throws an EdgeTickerError with the server's `x-error-code` when refused, or `network`
 * when the host could not be reached. `CoreApi`: what the streams need (symbol checks) and
 * bars; `Api` adds quotes and history.
 */
export class CoreApi {
  readonly #url: string;
  readonly #headers: () => Promise<Record<string, string>>;
  constructor(url: string, headers: () => Promise<Record<string, string>> = async () => ({})) {
    this.#url = url;
    this.#headers = headers;
  }

  /** OHLCV bars of `symbol`, oldest first. */
  bars(symbol: string, query: BarsQuery = {}): Promise<BarsAnswer> {
    const params = Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join("&");
    return this.get(`/api/bars/${encodeURIComponent(symbol)}${params ? `?${params}` : ""}`);
  }

  /** Whether each symbol (up to 50) can be subscribed to: known, not carried, unknown, or no price just now. */
  symbols(symbols: readonly string[]): Promise<SymbolsAnswer> {
    return this.get(`/api/symbols?symbols=${list(symbols)}`);
  }

  protected async get<T>(path: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.#url + path, {
        headers: await this.#headers(),
        credentials: "omit",
      } as RequestInit);
    } catch (err) {
      throw new EdgeTickerError("network", `${this.#url} could not be reached: ${err}`);
    }
    if (!res.ok) {
      const code = (res.headers.get("x-error-code") ?? "internal") as HttpErrorCode;
      throw new EdgeTickerError(code, (await res.text()).trim() || res.statusText, res.status);
    }
    try {
      return (await res.json()) as T;
    } catch {
      throw new EdgeTickerError("bad-answer", `${path} did not answer JSON`, res.status);
    }
  }
}

/** The HTTP API, typed: quotes, history, bars and symbol checks. */
export class Api extends CoreApi {
  /** The latest tick of each symbol (up to 50), in the order asked. */
  quotes(symbols: readonly string[]): Promise<QuotesAnswer> {
    return this.get(`/api/quotes?symbols=${list(symbols)}`);
  }

  /** The last `limit` ticks of `symbol`, oldest first. */
  history(symbol: string, limit?: number): Promise<HistoryAnswer> {
    return this.get(`/api/history/${encodeURIComponent(symbol)}${limit === undefined ? "" : `?limit=${limit}`}`);
  }
}

function list(symbols: readonly string[]): string {
  return symbols.map(encodeURIComponent).join(",");
}
