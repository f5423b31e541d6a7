import type { FaultEntry } from "../feeds/fault";
import { type ObjectReport, total } from "./exposition";
import type { Family, MetricsSnapshot } from "./registry";

/** The busiest streams a hub reports beside its metrics (the status page's "busiest symbols"): a bounded list. */
export interface StreamFigure {
  key: string;
  kind: string;
  subscriptions: number;
  /** The newest frame's tick time (epoch ms). */
  lastAt?: number;
}

/** How many streams a hub reports at most: per-symbol figures stay a bounded top list. */
export const TOP_STREAMS = 20;

export function hubStreamFigures(streams: Iterable<StreamFigure>): StreamFigure[] {
  return [...streams]
    .filter((s) => s.subscriptions > 0)
    .sort((a, b) => b.subscriptions - a.subscriptions || a.key.localeCompare(b.key))
    .slice(0, TOP_STREAMS)
    .map((s) => (s.lastAt === undefined ? { key: s.key, kind: s.kind, subscriptions: s.subscriptions } : { ...s }));
}

/** What the /status page shows, built from the same reports as GET /metrics. */
export interface StatusView {
  at: number;
  hubs: Array<{
    object: string;
    up: boolean;
    connections: number;
    sessions: number;
    subscriptions: number;
    transportMessages: number;
    frames: number;
    byTransport: Record<string, number>;
  }>;
  /** Busiest streams over every hub: viewers (subscriptions), newest tick's time, and the feed's fault if any. */
  symbols: Array<{ key: string; symbol: string; viewers: number; lastAt?: number; fault?: string }>;
  feed: Array<{
    object: string;
    up: boolean;
    provider?: string;
    activeSymbols: number;
    budgetLeft?: number;
    requestsPerMinute?: number;
    quotesOk: number;
    quotesFailed: number;
  }>;
  /** Faults: the feed's per-symbol ones, and objects that did not answer. */
  faults: Array<{ where: string; what: string }>;
  /** Delivery lag over every hub: bucket bounds (seconds) with cumulative counts, and the total count and sum. */
  lag: { bounds: number[]; cumulative: number[]; count: number; sum: number };
  /** Upstream stream objects (stream feeds): state, subscribed symbols, reconnects. */
  upstreams: Array<{ object: string; up: boolean; state?: string; symbols: number; reconnects: number }>;
  /** Refusals, token failures, heart-beat timeouts, inbound-limit closes: totals since each object started. */
  incidents: Record<string, number>;
}

export type HubSnapshot = MetricsSnapshot & { streams?: StreamFigure[] };
export type FeedSnapshot = MetricsSnapshot & { faults?: FaultEntry[] };

export function buildStatus(
  hubs: ReadonlyArray<ObjectReport & { snapshot?: HubSnapshot }>,
  feeds: ReadonlyArray<ObjectReport & { snapshot?: FeedSnapshot }>,
  now: number,
  upstreamReports: readonly ObjectReport[] = [],
): StatusView {
  const one = (r: ObjectReport, name: string, where = {}) => total([r], name, where);
  const hubRows = hubs
    .filter(
      (r) => !r.snapshot || one(r, "edge_ticker_connections_opened_total") > 0 || one(r, "edge_ticker_connections") > 0,
    )
    .map((r) => {
      const byTransport: Record<string, number> = {};
      for (const s of samplesOf(r.snapshot, "edge_ticker_connections")) byTransport[s.labels.transport ?? ""] = s.value;
      return {
        object: r.object,
        up: r.snapshot !== undefined,
        connections: one(r, "edge_ticker_connections"),
        sessions: one(r, "edge_ticker_sessions"),
        subscriptions: one(r, "edge_ticker_subscriptions"),
        transportMessages: one(r, "edge_ticker_transport_messages_sent_total"),
        frames: one(r, "edge_ticker_frames_sent_total"),
        byTransport,
      };
    });
  const faults = new Map<string, string>();
  for (const entry of feeds.flatMap((f) => f.snapshot?.faults ?? []).sort((a, b) => b.at - a.at))
    if (!faults.has(entry.symbol)) faults.set(entry.symbol, `${entry.kind}: ${entry.reason}`);
  const streams = new Map<string, { key: string; symbol: string; viewers: number; lastAt?: number }>();
  for (const h of hubs) {
    for (const s of h.snapshot?.streams ?? []) {
      const symbol = s.key.slice(s.key.indexOf(".") + 1);
      const row = streams.get(s.key) ?? { key: s.key, symbol, viewers: 0 };
      row.viewers += s.subscriptions;
      if (s.lastAt !== undefined) row.lastAt = Math.max(row.lastAt ?? 0, s.lastAt);
      streams.set(s.key, row);
    }
  }
  const symbols = [...streams.values()]
    .sort((a, b) => b.viewers - a.viewers || a.key.localeCompare(b.key))
    .slice(0, TOP_STREAMS)
    .map((s) => (faults.has(s.symbol) ? { ...s, fault: faults.get(s.symbol)! } : s));
  const feed = feeds.map((r) => {
    const budget = samplesOf(r.snapshot, "edge_ticker_feed_budget_requests").find((s) => s.labels.pool === "rounds");
    const rpm = samplesOf(r.snapshot, "edge_ticker_feed_budget_requests_per_minute")[0];
    const active = samplesOf(r.snapshot, "edge_ticker_active_symbols")[0];
    const ok = one(r, "edge_ticker_feed_quotes_total", { outcome: "ok" });
    return {
      object: r.object,
      up: r.snapshot !== undefined,
      ...(active ? { provider: active.labels.provider } : {}),
      activeSymbols: active?.value ?? 0,
      ...(budget ? { budgetLeft: budget.value } : {}),
      ...(rpm ? { requestsPerMinute: rpm.value } : {}),
      quotesOk: ok,
      quotesFailed: one(r, "edge_ticker_feed_quotes_total") - ok,
    };
  });
  const upstreams = upstreamReports.map((r) => {
    const state = samplesOf(r.snapshot, "edge_ticker_upstream_stream_state")[0]?.labels.state;
    return {
      object: r.object,
      up: r.snapshot !== undefined,
      ...(state === undefined ? {} : { state }),
      symbols: one(r, "edge_ticker_upstream_subscribed_symbols"),
      reconnects: one(r, "edge_ticker_upstream_reconnects_total"),
    };
  });
  const down = [...hubs, ...feeds, ...upstreamReports].filter((r) => !r.snapshot && r.error !== "metrics are off");
  const lag = { bounds: [] as number[], cumulative: [] as number[], count: 0, sum: 0 };
  for (const h of hubs) {
    for (const f of h.snapshot?.families ?? []) {
      if (f.name !== "edge_ticker_delivery_lag_seconds" || f.type !== "histogram") continue;
      if (lag.bounds.length === 0) {
        lag.bounds = [...f.bounds];
        lag.cumulative = f.bounds.map(() => 0);
      }
      for (const s of f.samples) {
        let running = 0;
        s.counts.slice(0, lag.bounds.length).forEach((n, i) => {
          running += n;
          lag.cumulative[i]! += running;
        });
        lag.count += s.count;
        lag.sum += s.sum;
      }
    }
  }
  const all = [...hubs];
  return {
    at: now,
    hubs: hubRows,
    symbols,
    feed,
    upstreams,
    faults: [
      ...down.map((r) => ({ where: r.object, what: `did not answer: ${r.error ?? "no answer"}` })),
      ...[...faults].slice(0, TOP_STREAMS).map(([symbol, what]) => ({ where: symbol, what })),
    ],
    lag,
    incidents: {
      refusedFull: total(all, "edge_ticker_refusals_total", { reason: "full" }),
      refusedPerAddress: total(all, "edge_ticker_refusals_total", { reason: "per-address" }),
      tokenFailures: total(all, "edge_ticker_token_failures_total"),
      heartbeatTimeouts: total(all, "edge_ticker_heartbeat_timeouts_total"),
      inboundLimitCloses: total(all, "edge_ticker_inbound_limit_closes_total"),
      stompErrors: total(all, "edge_ticker_stomp_errors_total"),
      replayedTicks: total(all, "edge_ticker_replayed_ticks_total"),
      resumeGaps: total(all, "edge_ticker_resume_gaps_total"),
    },
  };
}

function samplesOf(
  snapshot: MetricsSnapshot | undefined,
  name: string,
): Array<{ labels: Record<string, string>; value: number }> {
  const f: Family | undefined = snapshot?.families.find((x) => x.name === name);
  return f && f.type !== "histogram" ? f.samples : [];
}
