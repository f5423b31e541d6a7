import type { RequestBudget } from "../../feeds/budget";
import { describeFault, type Fault, fault, isUnknownSymbol } from "../../feeds/fault";
import type { BarHistory, FeedProvider } from "../../feeds/provider";
import type { Admission, Unavailable } from "../../feeds/unavailable";
import type { Quote } from "../../market/tick";
import type { FeedMetrics } from "../../metrics/feed-metrics";
import { takeColdRequest, type Waits } from "./cold-start";
import type { FaultLog } from "./fault-log";
import type { SymbolBook } from "./symbol-book";

/** How long a cold symbol's first quote may wait for the request budget. */
const FIRST_QUOTE_WAIT_MS = 5_000;

export interface FirstQuoteParts {
  feed: FeedProvider;
  /** The share of the request budget kept for new symbols. */
  coldBudget: RequestBudget;
  book: SymbolBook;
  faults: FaultLog;
  counts: FeedMetrics | undefined;
  waits: Waits;
  /** Marks a symbol real (the shard stores it). */
  know(symbol: string): Promise<void>;
  log(event: string, fields: Record<string, unknown>): void;
}

/**
 * What a scheduler shard answers about symbols it does not pull yet: whether one is real
 * (admission, before anything makes its object), its first quote, its history. Every
 * request to the provider here comes from the first quotes' share of the budget, and a
 * symbol the provider does not know is remembered for a while and refused from memory.
 * No Durable Object API: the feed and the clock are injected.
 */
export class FirstQuotes {
  constructor(private readonly parts: FirstQuoteParts) {}

  /** Known here (`known`: published, quoted, active), or, when `ask`, the provider quotes it now (kept for the source). */
  async admit(symbol: string, known: boolean, ask: boolean): Promise<Admission> {
    if (known) return { known: true };
    if (!ask) return { unavailable: "unknown", reason: `${symbol} is not a symbol this service knows` };
    const result = await this.quote(symbol);
    if (!("quote" in result)) return result;
    this.parts.book.stash(result.quote, this.parts.waits.now());
    return { known: true };
  }

  /** A new symbol's first quote: the one taken to admit it, or one from the budget. */
  first(symbol: string): Promise<{ quote: Quote } | Unavailable> {
    const stashed = this.parts.book.takeStashed(symbol, this.parts.waits.now());
    return stashed ? Promise.resolve({ quote: stashed }) : this.quote(symbol);
  }

  /** One-minute bars from the provider's aggregates endpoint: one request now, or not at all. */
  async minuteBars(symbol: string, from: number, to: number): Promise<BarHistory | { fault: Fault }> {
    const { feed, coldBudget, waits } = this.parts;
    if (!feed.minuteBars) return { fault: fault("unsupported", `${feed.id} has no intraday history endpoint`) };
    if (!coldBudget.take(1, waits.now()))
      return { fault: fault("rate-limit", `no room in the ${feed.id} request budget for a history just now`) };
    return feed.minuteBars(symbol, from, to);
  }

  private async quote(symbol: string): Promise<{ quote: Quote } | Unavailable> {
    const { feed, book, counts, waits } = this.parts;
    const refused = book.refusal(symbol, waits.now());
    if (refused) {
      counts?.firstQuote(false, "unknown");
      return refused;
    }
    const wait = await takeColdRequest(this.parts.coldBudget, FIRST_QUOTE_WAIT_MS, waits);
    if (wait > 0) {
      counts?.firstQuote(false, "busy");
      const reason = `too many new symbols for the ${feed.id} request budget just now`;
      return { unavailable: "busy", reason, retryAfterMs: wait };
    }
    const [result] = await feed.quotes([{ symbol }], waits.now());
    if (result && "quote" in result) {
      counts?.firstQuote(true, "ok");
      await this.parts.know(symbol);
      return { quote: result.quote };
    }
    const f = result?.fault ?? fault("upstream", "the feed returned nothing");
    // One log line when look-ups start failing another way, not one per look-up.
    if (this.parts.faults.lookedUp(symbol, f, waits.now()))
      this.parts.log("feed_fault", { provider: feed.id, symbol, kind: f.kind, reason: f.reason, lookUp: true });
    const reason = `no price for ${symbol}: ${describeFault(f)}`;
    if (!isUnknownSymbol(f)) {
      counts?.firstQuote(true, "upstream");
      return { unavailable: "upstream", reason };
    }
    counts?.firstQuote(true, "unknown");
    book.rememberUnknown(symbol, reason, waits.now());
    return { unavailable: "unknown", reason };
  }
}
