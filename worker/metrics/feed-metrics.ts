import type { Fault, FaultEntry, FaultKind, FaultReport } from "../feeds/fault";
import { type Counter, type MetricsSnapshot, Registry } from "./registry";

/** Outcome label of a pulled quote: `ok`, or its fault's kind (a closed list: the label set stays bounded). */
export function quoteOutcome(fault: Fault | undefined): "ok" | FaultKind {
  return fault === undefined ? "ok" : fault.kind;
}

/** What a scheduler shard knows at snapshot time. */
export interface FeedHoldings {
  activeSymbols(): number;
  /** Requests the rounds' budget has left now (Infinity: no limit, not reported). */
  budgetLeft(): number;
  /** Requests the first quotes' budget has left now. */
  coldBudgetLeft(): number;
  requestsPerMinute(): number;
}

/** Most faults a shard lists beside its metrics (the status page). */
export const MAX_FAULTS = 20;

/**
 * A feed-scheduler shard's metrics: requests and quotes by provider and outcome, rounds,
 * and the budget left, all labelled by the shard's provider.
 */
export class FeedMetrics {
  private readonly registry: Registry;
  private readonly requests: Counter;
  private readonly quotes: Counter;
  private readonly rounds: Counter;
  private readonly firstQuotes: Counter;

  constructor(
    now: number,
    private readonly provider: string,
    holdings: FeedHoldings,
  ) {
    const r = new Registry(now);
    this.registry = r;
    const finite = (v: number) => (Number.isFinite(v) ? [{ labels: { provider }, value: v }] : []);
    r.gauge("edge_ticker_active_symbols", "Symbols with subscribers this shard pulls.", () => [
      { labels: { provider }, value: holdings.activeSymbols() },
    ]);
    r.gauge(
      "edge_ticker_feed_budget_requests",
      "Upstream requests the shard's budget has left now, by pool (rounds, first quotes).",
      () => [
        ...finite(holdings.budgetLeft()).map((s) => ({ ...s, labels: { ...s.labels, pool: "rounds" } })),
        ...finite(holdings.coldBudgetLeft()).map((s) => ({ ...s, labels: { ...s.labels, pool: "first-quotes" } })),
      ],
    );
    r.gauge("edge_ticker_feed_budget_requests_per_minute", "The shard's share of the provider's request budget.", () =>
      finite(holdings.requestsPerMinute()),
    );
    this.requests = r.counter(
      "edge_ticker_feed_requests_total",
      "Upstream requests made, by provider and purpose (round, first-quote).",
      ["provider", "purpose"],
    );
    this.quotes = r.counter(
      "edge_ticker_feed_quotes_total",
      "Quotes asked of the provider, by provider and outcome (ok or the fault class).",
      ["provider", "outcome"],
    );
    this.rounds = r.counter(
      "edge_ticker_feed_rounds_total",
      "Pull rounds, by whether the budget held some symbols back (limited).",
      ["provider", "limited"],
    );
    this.firstQuotes = r.counter(
      "edge_ticker_feed_first_quotes_total",
      "First quotes of new symbols, by outcome (ok, busy, unknown, upstream).",
      ["provider", "outcome"],
    );
  }

  /** A round: `requests` upstream requests, limited or not, with each symbol's fault (undefined: ok). */
  round(requests: number, limited: boolean, faults: Iterable<Fault | undefined>): void {
    const provider = this.provider;
    this.rounds.inc({ provider, limited: String(limited) });
    this.requests.inc({ provider, purpose: "round" }, requests);
    for (const f of faults) this.quotes.inc({ provider, outcome: quoteOutcome(f) });
  }

  /** A first quote: `asked` when it reached the provider; its outcome. */
  firstQuote(asked: boolean, outcome: "ok" | "busy" | "unknown" | "upstream"): void {
    const provider = this.provider;
    if (asked) this.requests.inc({ provider, purpose: "first-quote" });
    this.firstQuotes.inc({ provider, outcome });
  }

  /** The figures, with the newest faults (at most MAX_FAULTS) and how many of each kind the shard saw. */
  snapshot(faults: FaultReport): MetricsSnapshot & { faults: FaultEntry[]; faultCounts: FaultReport["counts"] } {
    return { ...this.registry.snapshot(), faults: faults.recent.slice(0, MAX_FAULTS), faultCounts: faults.counts };
  }
}
