import {
  type Counter,
  type CounterChild,
  type Histogram,
  type HistogramChild,
  LAG_BUCKETS,
  type MetricsSnapshot,
  Registry,
  type Sample,
} from "./registry";

/**
 * What a connection counts as it writes (one per transport label, shared by its
 * connections): plain number fields, so the write path adds without look-ups.
 */
export interface ConnectionMeter {
  readonly transport: string;
  /** MESSAGE frames queued for writing (conflated ones that never leave are not counted). */
  readonly messageFrames: CounterChild;
  /** CONNECTED, RECEIPT, ERROR and heart-beat frames. */
  readonly controlFrames: CounterChild;
  /** STOMP text written (code units; the same as bytes for the ASCII frames the server builds), before transport framing. */
  readonly bytes: CounterChild;
  /** Transport messages: WebSocket messages, or SockJS HTTP writes. */
  readonly writes: CounterChild;
  /** The session ended with an ERROR frame of this catalogue code. */
  failed(code: string): void;
}

/** What the hub's broker counts. */
export interface BrokerMeter {
  /** A frame of `stream` (ticker, delayed, viewers) reached subscribers here, `lagMs` after its tick's timestamp. */
  delivered(stream: string, lagMs: number | undefined): void;
  replayed(ticks: number): void;
  /** A resuming subscription got the newest tick marked as a gap. */
  gap(): void;
  /** Ticks fetched from a source's history to fill a jump in `seq` during delivery. */
  filled(ticks: number): void;
}

/** Why a credential was refused, from the one-line reason: a fixed set of labels. */
export function tokenFailureReason(message: string): string {
  if (/expired/i.test(message)) return "expired";
  if (/not yet valid/i.test(message)) return "not-yet-valid";
  if (/signature/i.test(message)) return "bad-signature";
  if (/audience|issuer|claim|sub must|sym must|true or false/i.test(message)) return "bad-claims";
  if (/algorithm/i.test(message)) return "algorithm";
  if (/neither a token nor the publish token/i.test(message)) return "unknown-credential";
  if (/malformed|not a JWT|unreadable|no matching key/i.test(message)) return "malformed";
  return "other";
}

/** Error codes that mean a connection went over an inbound limit. */
const INBOUND_LIMIT_CODES: ReadonlySet<string> = new Set(["too-much-input", "too-many-frames"]);

/** The figures of what a hub holds right now, read at snapshot time. */
export interface HubHoldings {
  /** Each connection's transport label and whether its STOMP session is connected. */
  connections(): Iterable<{ transport: string; connected: boolean }>;
  /** Each stream held (or being attached): its kind and subscriptions here. */
  streams(): Iterable<{ kind: string; subscriptions: number }>;
}

/** A connection hub's metrics: counted by its connections and broker, gauges read from its holdings. */
export class HubMetrics implements BrokerMeter {
  readonly registry: Registry;
  private readonly meters = new Map<string, ConnectionMeter>();
  private readonly perStream = new Map<string, { frames: CounterChild; lag: HistogramChild }>();
  private readonly opened: Counter;
  private readonly closed: Counter;
  private readonly frames: Counter;
  private readonly bytes: Counter;
  private readonly writes: Counter;
  private readonly errors: Counter;
  private readonly inboundLimit: Counter;
  private readonly tokenFailures: Counter;
  private readonly refusals: Counter;
  private readonly heartbeatTimeouts: CounterChild;
  private readonly lag: Histogram;
  private readonly deliveredFrames: Counter;
  private readonly replayedTicks: CounterChild;
  private readonly gaps: CounterChild;
  private readonly gapFills: CounterChild;

  constructor(now: number, holdings: HubHoldings) {
    const r = new Registry(now);
    this.registry = r;
    r.gauge("edge_ticker_connections", "Client connections held, by transport.", () => {
      const by = new Map<string, number>();
      for (const c of holdings.connections()) by.set(c.transport, (by.get(c.transport) ?? 0) + 1);
      return samples(by, "transport");
    });
    r.gauge("edge_ticker_sessions", "STOMP sessions past CONNECT, by transport.", () => {
      const by = new Map<string, number>();
      for (const c of holdings.connections()) if (c.connected) by.set(c.transport, (by.get(c.transport) ?? 0) + 1);
      return samples(by, "transport");
    });
    r.gauge("edge_ticker_subscriptions", "Subscriptions held, by stream (ticker, delayed, viewers).", () => {
      const by = new Map<string, number>();
      for (const s of holdings.streams())
        if (s.subscriptions > 0) by.set(s.kind, (by.get(s.kind) ?? 0) + s.subscriptions);
      return samples(by, "stream");
    });
    r.gauge("edge_ticker_streams_held", "Streams this hub holds subscribers of.", () => {
      let held = 0;
      for (const s of holdings.streams()) if (s.subscriptions > 0) held++;
      return held;
    });
    this.opened = r.counter("edge_ticker_connections_opened_total", "Client connections accepted, by transport.", [
      "transport",
    ]);
    this.closed = r.counter("edge_ticker_connections_closed_total", "Client connections gone, by transport.", [
      "transport",
    ]);
    this.frames = r.counter(
      "edge_ticker_frames_sent_total",
      "STOMP frames written, by transport and kind (message, control).",
      ["transport", "kind"],
    );
    this.bytes = r.counter(
      "edge_ticker_sent_bytes_total",
      "STOMP text written, by transport (before transport framing).",
      ["transport"],
    );
    this.writes = r.counter(
      "edge_ticker_transport_messages_sent_total",
      "Transport messages written (WebSocket messages, SockJS writes), by transport.",
      ["transport"],
    );
    this.errors = r.counter(
      "edge_ticker_stomp_errors_total",
      "Sessions ended with an ERROR frame, by its x-error-code.",
      ["code"],
    );
    this.inboundLimit = r.counter(
      "edge_ticker_inbound_limit_closes_total",
      "Connections closed for sending too much, by limit (x-error-code).",
      ["limit"],
    );
    this.tokenFailures = r.counter(
      "edge_ticker_token_failures_total",
      "Credentials refused on CONNECT or refresh, by reason.",
      ["reason"],
    );
    this.refusals = r.counter(
      "edge_ticker_refusals_total",
      "New connections turned away, by reason (full, per-address).",
      ["reason"],
    );
    this.heartbeatTimeouts = r
      .counter("edge_ticker_heartbeat_timeouts_total", "Sockets closed because their heart-beats stopped.")
      .labels();
    this.deliveredFrames = r.counter(
      "edge_ticker_frames_delivered_total",
      "Stream frames that reached subscribers here, by stream.",
      ["stream"],
    );
    this.lag = r.histogram(
      "edge_ticker_delivery_lag_seconds",
      "From a tick's timestamp to its write queued on this hub's connections, by stream.",
      LAG_BUCKETS,
      ["stream"],
    );
    this.replayedTicks = r
      .counter("edge_ticker_replayed_ticks_total", "Ticks replayed to resuming subscriptions (x-since).")
      .labels();
    this.gaps = r
      .counter("edge_ticker_resume_gaps_total", "Resumes answered with the newest tick marked x-gap.")
      .labels();
    this.gapFills = r
      .counter(
        "edge_ticker_gap_filled_ticks_total",
        "Ticks fetched from a source's history to fill a jump during delivery.",
      )
      .labels();
  }

  /** A new connection over `transport` (`websocket`, `sockjs-websocket`, `sockjs-xhr_streaming`, ...): counted, and its meter. */
  open(transport: string): ConnectionMeter {
    this.opened.inc({ transport });
    return this.meter(transport);
  }

  /** The meter shared by the connections of a transport label. */
  meter(transport: string): ConnectionMeter {
    let meter = this.meters.get(transport);
    if (!meter) {
      const errors = this.errors;
      const inbound = this.inboundLimit;
      const tokens = this.tokenFailures;
      meter = {
        transport,
        messageFrames: this.frames.labels({ transport, kind: "message" }),
        controlFrames: this.frames.labels({ transport, kind: "control" }),
        bytes: this.bytes.labels({ transport }),
        writes: this.writes.labels({ transport }),
        failed(code) {
          errors.inc({ code });
          if (INBOUND_LIMIT_CODES.has(code)) inbound.inc({ limit: code });
          // No credential where one is required never reaches the token check.
          if (code === "auth-required") tokens.inc({ reason: "missing" });
        },
      };
      this.meters.set(transport, meter);
    }
    return meter;
  }

  closedOne(transport: string): void {
    this.closed.inc({ transport });
  }

  tokenFailed(reason: string): void {
    this.tokenFailures.inc({ reason });
  }

  refused(reason: string): void {
    this.refusals.inc({ reason });
  }

  heartbeatTimeout(): void {
    this.heartbeatTimeouts.value++;
  }

  // BrokerMeter
  delivered(stream: string, lagMs: number | undefined): void {
    let of = this.perStream.get(stream);
    if (!of) {
      // Resolved once per stream kind: a delivery adds to number fields, no label look-up.
      of = { frames: this.deliveredFrames.labels({ stream }), lag: this.lag.labels({ stream }) };
      this.perStream.set(stream, of);
    }
    of.frames.value++;
    if (lagMs !== undefined) of.lag.observe(Math.max(0, lagMs) / 1000);
  }

  replayed(ticks: number): void {
    this.replayedTicks.value += ticks;
  }

  gap(): void {
    this.gaps.value++;
  }

  filled(ticks: number): void {
    this.gapFills.value += ticks;
  }

  snapshot(): MetricsSnapshot {
    return this.registry.snapshot();
  }
}

function samples(by: Map<string, number>, label: string): Sample[] {
  return [...by].map(([value, n]) => ({ labels: { [label]: value }, value: n }));
}
