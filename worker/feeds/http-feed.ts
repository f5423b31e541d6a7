import type { Quote } from "../market/tick";
import { type Fault, fault } from "./fault";
import { defined } from "./normalize";
import type { FeedCapabilities, FeedProvider, QuoteRequest, QuoteResult } from "./provider";
import { FeedFault, type UpstreamOptions } from "./upstream";

export interface HttpFeedOptions extends UpstreamOptions {
  baseUrl: string;
  key?: string;
  secret?: string;
}

type Fields = Omit<Quote, "symbol" | "source">;

/** A provider's answer for one of its symbols: a quote (without symbol/source) or its fault. */
export type BatchResult = Map<string, Fields | Fault>;

/** The quote, when the provider gave a valid price; the fault otherwise (never a made-up price). */
export function quoteOf(fields: Omit<Fields, "price"> & { price: number | undefined }): Fields | Fault {
  if (fields.price === undefined) return fault("malformed", "no valid price");
  return defined(fields as Fields);
}

const DEFAULT_COOLDOWN_MS = 60_000;

/**
 * What every HTTP provider shares: symbol mapping with a clear refusal for symbols it
 * cannot serve, batching up to its limit, a cooldown after a rate limit (Retry-After),
 * and one result per requested symbol whatever fails.
 */
export abstract class HttpFeed implements FeedProvider {
  abstract readonly id: string;
  abstract readonly capabilities: FeedCapabilities;
  private cooldownUntil = 0;

  constructor(protected readonly options: HttpFeedOptions) {
    if (!options.baseUrl) throw new Error("a feed needs a base URL");
  }

  /** The provider's name for `symbol`, or why it cannot serve it. */
  protected abstract providerSymbol(symbol: string): string | Fault;

  /** One request for up to maxSymbolsPerRequest provider symbols. Throws FeedFault. */
  protected abstract fetchBatch(symbols: string[]): Promise<BatchResult>;

  async quotes(requests: readonly QuoteRequest[], now: number): Promise<QuoteResult[]> {
    const results: QuoteResult[] = [];
    const wanted = new Map<string, string[]>(); // provider symbol → our symbols
    for (const { symbol } of requests) {
      const mapped = this.providerSymbol(symbol);
      if (typeof mapped !== "string") results.push({ symbol, fault: mapped });
      else wanted.set(mapped, [...(wanted.get(mapped) ?? []), symbol]);
    }
    const names = [...wanted.keys()];
    const fail = (batch: string[], f: Fault) => {
      for (const p of batch) for (const symbol of wanted.get(p)!) results.push({ symbol, fault: f });
    };
    if (now < this.cooldownUntil) {
      const wait = this.cooldownUntil - now;
      fail(names, fault("rate-limit", `waiting ${Math.ceil(wait / 1000)} s as the provider asked`, wait));
      return results;
    }
    const size = this.capabilities.maxSymbolsPerRequest;
    for (let i = 0; i < names.length; i += size) {
      const batch = names.slice(i, i + size);
      try {
        const answers = await this.fetchBatch(batch);
        for (const p of batch) {
          const answer = answers.get(p) ?? fault("unknown-symbol", "the provider returned nothing for it");
          for (const symbol of wanted.get(p)!) {
            results.push(
              isFault(answer) ? { symbol, fault: answer } : { symbol, quote: { ...answer, symbol, source: this.id } },
            );
          }
        }
      } catch (err) {
        if (!(err instanceof FeedFault)) throw err;
        if (err.kind === "rate-limit") {
          this.cooldownUntil = Date.now() + (err.retryAfterMs ?? DEFAULT_COOLDOWN_MS);
          fail(names.slice(i), err.toFault());
          return results;
        }
        fail(batch, err.toFault());
      }
    }
    return results;
  }

  protected url(path: string, query: Record<string, string> = {}): string {
    const url = new URL(
      path.replace(/^\//, ""),
      this.options.baseUrl.endsWith("/") ? this.options.baseUrl : `${this.options.baseUrl}/`,
    );
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url.toString();
  }
}

function isFault(answer: Fields | Fault): answer is Fault {
  return "kind" in answer;
}
