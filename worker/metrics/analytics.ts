import type { Family, MetricsSnapshot } from "./registry";

/**
 * One column of an object's Analytics Engine data point: a gauge's value now, or how much
 * a counter grew since the last point (SUM() over time then adds up; a restarted object's
 * writer starts again from 0 with its counters, so nothing is counted twice).
 */
export interface Column {
  /** The column's name in docs/operating.md (the point carries values only: double1, double2, ...). */
  name: string;
  kind: "gauge" | "delta";
  read(snapshot: MetricsSnapshot): number;
}

/** The sum of a family's samples (a histogram's count, or with `part` its sum), optionally where labels match. */
function sum(
  name: string,
  where: Record<string, string> = {},
  part: "count" | "sum" = "count",
): (s: MetricsSnapshot) => number {
  return (snapshot) => {
    const family: Family | undefined = snapshot.families.find((f) => f.name === name);
    if (!family) return 0;
    let n = 0;
    for (const s of family.samples) {
      if (!Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
      n += "value" in s ? s.value : part === "sum" ? s.sum : s.count;
    }
    return Number.isFinite(n) ? n : 0;
  };
}

/** Lag observations above one second (the histogram's count less its `le=1` bucket). */
function lagOverOneSecond(snapshot: MetricsSnapshot): number {
  const family = snapshot.families.find((f) => f.name === "edge_ticker_delivery_lag_seconds");
  if (family?.type !== "histogram") return 0;
  const upTo = family.bounds.findIndex((b) => b >= 1);
  let n = 0;
  for (const s of family.samples) n += s.counts.slice(upTo + 1).reduce((a, b) => a + b, 0);
  return n;
}

/** A hub's data point: blob1 `hub`, blob2 the hub's name; double1.. in this order. */
export const HUB_COLUMNS: readonly Column[] = [
  { name: "connections", kind: "gauge", read: sum("edge_ticker_connections") },
  { name: "sessions", kind: "gauge", read: sum("edge_ticker_sessions") },
  { name: "subscriptions", kind: "gauge", read: sum("edge_ticker_subscriptions") },
  { name: "connections_opened", kind: "delta", read: sum("edge_ticker_connections_opened_total") },
  { name: "message_frames_sent", kind: "delta", read: sum("edge_ticker_frames_sent_total", { kind: "message" }) },
  { name: "bytes_sent", kind: "delta", read: sum("edge_ticker_sent_bytes_total") },
  { name: "transport_messages_sent", kind: "delta", read: sum("edge_ticker_transport_messages_sent_total") },
  { name: "frames_delivered", kind: "delta", read: sum("edge_ticker_frames_delivered_total") },
  { name: "lag_count", kind: "delta", read: sum("edge_ticker_delivery_lag_seconds") },
  { name: "lag_sum_seconds", kind: "delta", read: sum("edge_ticker_delivery_lag_seconds", {}, "sum") },
  { name: "lag_over_1s", kind: "delta", read: lagOverOneSecond },
  { name: "token_failures", kind: "delta", read: sum("edge_ticker_token_failures_total") },
  { name: "refusals", kind: "delta", read: sum("edge_ticker_refusals_total") },
  { name: "heartbeat_timeouts", kind: "delta", read: sum("edge_ticker_heartbeat_timeouts_total") },
  { name: "inbound_limit_closes", kind: "delta", read: sum("edge_ticker_inbound_limit_closes_total") },
  { name: "replayed_ticks", kind: "delta", read: sum("edge_ticker_replayed_ticks_total") },
  { name: "resume_gaps", kind: "delta", read: sum("edge_ticker_resume_gaps_total") },
];

/** A scheduler shard's data point: blob1 `scheduler`, blob2 the shard's name; double1.. in this order. */
export const FEED_COLUMNS: readonly Column[] = [
  { name: "active_symbols", kind: "gauge", read: sum("edge_ticker_active_symbols") },
  { name: "budget_left", kind: "gauge", read: sum("edge_ticker_feed_budget_requests", { pool: "rounds" }) },
  { name: "requests", kind: "delta", read: sum("edge_ticker_feed_requests_total") },
  { name: "quotes_ok", kind: "delta", read: sum("edge_ticker_feed_quotes_total", { outcome: "ok" }) },
  { name: "quotes", kind: "delta", read: sum("edge_ticker_feed_quotes_total") },
  { name: "rounds", kind: "delta", read: sum("edge_ticker_feed_rounds_total") },
  { name: "rounds_limited", kind: "delta", read: sum("edge_ticker_feed_rounds_total", { limited: "true" }) },
];

/**
 * Writes one object's figures to a Workers Analytics Engine dataset at most once per
 * `everyMs`: the object calls `due(now)` where it is active anyway (a delivery, an alarm)
 * and, when due, `write`; `writeDataPoint` does not block and is never awaited. An idle
 * object writes nothing (and is not woken to). Pure apart from the dataset it is given.
 */
export class AnalyticsWriter {
  private nextAt: number;
  private readonly last: number[];
  private failed = false;

  constructor(
    private readonly dataset: AnalyticsEngineDataset,
    private readonly kind: string,
    private readonly object: string | (() => string),
    private readonly columns: readonly Column[],
    now: number,
    private readonly everyMs: number,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.last = columns.map(() => 0);
    // The first point a period after the object started: a short-lived instance writes nothing twice.
    this.nextAt = now + everyMs;
  }

  /** Whether a point is due at `now` (one comparison: cheap enough for the hot path). */
  due(now: number): boolean {
    return now >= this.nextAt;
  }

  /** Writes a point from `snapshot` if one is due; true if it wrote. A failing dataset never breaks the caller. */
  write(now: number, snapshot: () => MetricsSnapshot): boolean {
    if (now < this.nextAt) return false;
    this.nextAt = now + this.everyMs;
    try {
      const s = snapshot();
      const doubles = this.columns.map((c, i) => {
        const value = c.read(s);
        if (c.kind === "gauge") return value;
        const delta = value - this.last[i]!;
        this.last[i] = value;
        return delta;
      });
      const object = typeof this.object === "string" ? this.object : this.object();
      this.dataset.writeDataPoint({ indexes: [object.slice(0, 96)], blobs: [this.kind, object], doubles });
      return true;
    } catch (err) {
      if (!this.failed) this.onError(err);
      this.failed = true;
      return false;
    }
  }
}

/** A writer that says once when it first wrote, and once if the dataset fails (one log line per state change). */
export function writerFor(
  dataset: AnalyticsEngineDataset,
  kind: string,
  object: () => string,
  everyMs: number,
  log: (event: string, fields: Record<string, unknown>) => void,
): AnalyticsWriter {
  let wrote = false;
  const logged: AnalyticsEngineDataset = {
    writeDataPoint(point) {
      dataset.writeDataPoint(point);
      if (!wrote) log("metrics_dataset_writing", { kind, object: object(), everyMs });
      wrote = true;
    },
  };
  return new AnalyticsWriter(
    logged,
    kind,
    object,
    kind === "hub" ? HUB_COLUMNS : FEED_COLUMNS,
    Date.now(),
    everyMs,
    (error) => log("metrics_dataset_failed", { kind, object: object(), error: String(error) }),
  );
}
