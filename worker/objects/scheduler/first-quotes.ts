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
  /** Prices stream (FEED_TRANSPORT): look-ups for viewers never wait for the budget. */
  streamed: boolean;
  /** A symbol admitted on trust the provider does not know: out of the active set, its source's state deleted. */
  retire(symbol: string): Promise<void>;
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

  /**
   * Known here (`known`: published, quoted, active), or, when `ask`, the provider quotes it now
   * (kept for the source). With prices streaming, a viewer's look-up (`hold`) never waits for
   * the budget (a connection's SUBSCRIBEs are handled one after another): with no room now,
   * the symbol is admitted on trust, bounded, until its first price makes it known or the
   * provider's refusal retires it (`settle`), so its first trade can reach the viewer at once.
   */
  async admit(symbol: string, known: boolean, ask: boolean, hold = false): Promise<Admission> {
    if (known) return { known: true };
    if (!ask) return { unavailable: "unknown", reason: `${symbol} is not a symbol this service knows` };
    const trusting = hold && this.parts.streamed;
    const result = await this.quote(symbol, trusting ? 0 : FIRST_QUOTE_WAIT_MS);
    if (!("quote" in result)) {
      const trusted =
        trusting && result.unavailable === "busy" && this.parts.book.trust(symbol, this.parts.waits.now());
      return trusted ? { known: true } : result;
    }
    this.parts.book.stash(result.quote, this.parts.waits.now());
    return { known: true };
  }

  /** A new symbol's first quote: the one taken to admit it, or one from the budget (waiting up to `waitMs` for room). */
  first(symbol: string, waitMs = FIRST_QUOTE_WAIT_MS): Promise<{ quote: Quote } | Unavailable> {
    const stashed = this.parts.book.takeStashed(symbol, this.parts.waits.now());
    return stashed ? Promise.resolve({ quote: stashed }) : this.quote(symbol, waitMs);
  }

  /**
   * A round's news of a symbol admitted on trust: a price (streamed or polled) makes it known;
   * the provider saying it has no such symbol retires it (true).
   */
  async settle(symbol: string, priced: boolean, f: Fault | undefined): Promise<boolean> {
    const { book, waits } = this.parts;
    if (!book.isTrusted(symbol)) return false;
    if (priced) {
      book.isTrusted(symbol, true);
      await this.parts.know(symbol);
      return false;
    }
    if (!f || !isUnknownSymbol(f)) return false;
    const reason = `no price for ${symbol}: ${describeFault(f)}`;
    book.rememberUnknown(symbol, reason, waits.now());
    await this.refuseTrusted(symbol, reason);
    return true;
  }

  /**
   * Symbols still on trust are looked up as the first quotes' budget has room (a closed market
   * may never price or poll them): the provider's quote makes one known, its "no such symbol"
   * retires it. Called once a round.
   */
  async lookUpTrusted(): Promise<void> {
    const { book, coldBudget, waits } = this.parts;
    for (const symbol of book.trustedSymbols()) {
      if (coldBudget.waitFor(1, waits.now()) > 0) return;
      const result = await this.quote(symbol, 0);
      if ("quote" in result) book.isTrusted(symbol, true);
      else if (result.unavailable === "unknown") await this.refuseTrusted(symbol, result.reason);
    }
  }

  private async refuseTrusted(symbol: string, reason: string): Promise<void> {
    this.parts.book.isTrusted(symbol, true);
    this.parts.log("symbol_refused_after_trust", { provider: this.parts.feed.id, symbol, reason });
    await this.parts.retire(symbol).catch((err) => this.parts.log("retire_failed", { symbol, error: String(err) }));
  }

  /** One-minute bars from the provider's aggregates endpoint: one request now, or not at all. */
  async minuteBars(symbol: string, from: number, to: number): Promise<BarHistory | { fault: Fault }> {
    const { feed, coldBudget, waits } = this.parts;
    if (!feed.minuteBars) return { fault: fault("unsupported", `${feed.id} has no intraday history endpoint`) };
    if (!coldBudget.take(1, waits.now()))
      return { fault: fault("rate-limit", `no room in the ${feed.id} request budget for a history just now`) };
    return feed.minuteBars(symbol, from, to);
  }

  private async quote(symbol: string, waitMs = FIRST_QUOTE_WAIT_MS): Promise<{ quote: Quote } | Unavailable> {
    const { feed, book, counts, waits } = this.parts;
    const refused = book.refusal(symbol, waits.now());
    if (refused) {
      counts?.firstQuote(false, "unknown");
      return refused;
    }
    const wait = await takeColdRequest(this.parts.coldBudget, waitMs, waits);
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
