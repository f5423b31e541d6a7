import { describe, expect, it } from "vitest";
import { type ObjectReport, renderExposition, total } from "../../worker/metrics/exposition";
import { FeedMetrics, quoteOutcome } from "../../worker/metrics/feed-metrics";
import { HubMetrics, tokenFailureReason } from "../../worker/metrics/hub-metrics";
import { LAG_BUCKETS, MAX_SERIES, Registry } from "../../worker/metrics/registry";
import { buildStatus, hubStreamFigures, TOP_STREAMS } from "../../worker/metrics/status";

function hub(connections: Array<{ transport: string; connected: boolean }> = [], subs = new Map<string, number>()) {
  return new HubMetrics(1_000, {
    connections: () => connections,
    streams: () => [...subs].map(([kind, subscriptions]) => ({ kind, subscriptions })),
  });
}

const family = (r: Registry | HubMetrics, name: string) => {
  const f = r.snapshot().families.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name}`);
  return f;
};

describe("registry", () => {
  it("counts per label set, and past MAX_SERIES label sets counts under other", () => {
    const r = new Registry(5);
    const c = r.counter("x_total", "x", ["k"]);
    c.labels({ k: "a" }).inc();
    c.inc({ k: "a" }, 2);
    for (let i = 0; i < MAX_SERIES + 10; i++) c.inc({ k: `v${i}` });
    const f = family(r, "x_total");
    expect(f.samples).toHaveLength(MAX_SERIES + 1);
    expect(f.samples.find((s) => s.labels.k === "a")).toMatchObject({ value: 3 });
    expect(f.samples.find((s) => s.labels.k === "other")).toMatchObject({ value: 11 });
    expect(r.snapshot().startedAt).toBe(5);
  });

  it("refuses counters without _total, bad names and names registered twice", () => {
    const r = new Registry(0);
    expect(() => r.counter("x", "x")).toThrow(/_total/);
    expect(() => r.counter("X-y_total", "x")).toThrow(/bad metric name/);
    r.counter("a_total", "a");
    expect(() => r.gauge("a_total", "a", () => 1)).toThrow(/twice/);
  });

  it("puts observations in the first bucket whose bound holds them (le), the rest above the last", () => {
    const r = new Registry(0);
    const h = r.histogram("lag_seconds", "lag", [0.1, 1]);
    const child = h.labels();
    for (const v of [0.05, 0.1, 0.5, 1, 2]) child.observe(v);
    const f = family(r, "lag_seconds");
    expect(f.type).toBe("histogram");
    if (f.type !== "histogram") return;
    expect(f.samples[0]).toEqual({ labels: {}, counts: [2, 2, 1], sum: 3.65, count: 5 });
  });
});

describe("exposition", () => {
  it("labels every series by object, renders cumulative buckets, and reports an object that did not answer as down without figures", () => {
    const a = hub([{ transport: "websocket", connected: true }]);
    a.open("websocket").messageFrames.inc(3);
    a.delivered("ticker", 20);
    a.delivered("ticker", 3_000);
    const reports: ObjectReport[] = [
      { object: "hub:enam:0", kind: "hub", snapshot: a.snapshot() },
      { object: "hub:enam:1", kind: "hub", error: "no answer within 2000 ms" },
    ];
    const text = renderExposition(reports);
    expect(text).toContain('edge_ticker_up{object="hub:enam:0",kind="hub"} 1');
    expect(text).toContain('edge_ticker_up{object="hub:enam:1",kind="hub"} 0');
    expect(text).toContain('edge_ticker_start_time_seconds{object="hub:enam:0"} 1');
    expect(text).toContain('edge_ticker_frames_sent_total{object="hub:enam:0",transport="websocket",kind="message"} 3');
    expect(text).toContain('edge_ticker_connections{object="hub:enam:0",transport="websocket"} 1');
    expect(text).not.toMatch(/object="hub:enam:1"[^\n]*\n(?!# )[^\n]*hub:enam:1/);
    expect(text.match(/hub:enam:1/g)).toHaveLength(1);
    expect(text).toContain('edge_ticker_delivery_lag_seconds_bucket{object="hub:enam:0",stream="ticker",le="0.025"} 1');
    expect(text).toContain('edge_ticker_delivery_lag_seconds_bucket{object="hub:enam:0",stream="ticker",le="2.5"} 1');
    expect(text).toContain('edge_ticker_delivery_lag_seconds_bucket{object="hub:enam:0",stream="ticker",le="5"} 2');
    expect(text).toContain('edge_ticker_delivery_lag_seconds_bucket{object="hub:enam:0",stream="ticker",le="+Inf"} 2');
    expect(text).toContain('edge_ticker_delivery_lag_seconds_count{object="hub:enam:0",stream="ticker"} 2');
    // One HELP and TYPE per family, however many objects report it.
    const twice = renderExposition([reports[0]!, { ...reports[0]!, object: "hub:weur:0" }]);
    expect(twice.match(/# TYPE edge_ticker_connections gauge/g)).toHaveLength(1);
    expect(
      total([reports[0]!, { ...reports[0]!, object: "hub:weur:0" }], "edge_ticker_frames_sent_total", {
        kind: "message",
      }),
    ).toBe(6);
  });

  it("escapes label values", () => {
    const r = new Registry(0);
    r.counter("e_total", "e", ["v"]).inc({ v: 'a"b\\c\nd' });
    expect(renderExposition([{ object: "o", kind: "k", snapshot: r.snapshot() }])).toContain(
      'e_total{object="o",v="a\\"b\\\\c\\nd"} 1',
    );
  });
});

describe("hub metrics", () => {
  it("counts opens, closes, refusals, errors, inbound-limit closes and token failures by bounded reasons", () => {
    const m = hub();
    const ws = m.open("websocket");
    m.open("websocket");
    m.meter("websocket");
    m.closedOne("websocket");
    ws.failed("too-much-input");
    ws.failed("too-many-frames");
    ws.failed("auth-required");
    m.refused("full");
    m.tokenFailed(tokenFailureReason("Token expired"));
    m.tokenFailed(tokenFailureReason("Invalid token: bad signature"));
    m.heartbeatTimeout();
    m.replayed(20);
    m.gap();
    const text = renderExposition([{ object: "h", kind: "hub", snapshot: m.snapshot() }]);
    expect(text).toContain('edge_ticker_connections_opened_total{object="h",transport="websocket"} 2');
    expect(text).toContain('edge_ticker_connections_closed_total{object="h",transport="websocket"} 1');
    expect(text).toContain('edge_ticker_inbound_limit_closes_total{object="h",limit="too-much-input"} 1');
    expect(text).toContain('edge_ticker_stomp_errors_total{object="h",code="auth-required"} 1');
    expect(text).toContain('edge_ticker_token_failures_total{object="h",reason="missing"} 1');
    expect(text).toContain('edge_ticker_token_failures_total{object="h",reason="expired"} 1');
    expect(text).toContain('edge_ticker_token_failures_total{object="h",reason="bad-signature"} 1');
    expect(text).toContain('edge_ticker_refusals_total{object="h",reason="full"} 1');
    expect(text).toContain('edge_ticker_heartbeat_timeouts_total{object="h"} 1');
    expect(text).toContain('edge_ticker_replayed_ticks_total{object="h"} 20');
    expect(text).toContain('edge_ticker_resume_gaps_total{object="h"} 1');
  });

  it("reads connections, sessions and subscriptions from what the hub holds", () => {
    const m = hub(
      [
        { transport: "websocket", connected: true },
        { transport: "websocket", connected: false },
        { transport: "sockjs-xhr_streaming", connected: true },
      ],
      new Map([
        ["ticker", 5],
        ["viewers", 1],
      ]),
    );
    const text = renderExposition([{ object: "h", kind: "hub", snapshot: m.snapshot() }]);
    expect(text).toContain('edge_ticker_connections{object="h",transport="websocket"} 2');
    expect(text).toContain('edge_ticker_sessions{object="h",transport="websocket"} 1');
    expect(text).toContain('edge_ticker_sessions{object="h",transport="sockjs-xhr_streaming"} 1');
    expect(text).toContain('edge_ticker_subscriptions{object="h",stream="ticker"} 5');
    expect(text).toContain('edge_ticker_streams_held{object="h"} 2');
  });

  it("maps every token refusal to one of a few reasons", () => {
    expect(tokenFailureReason("Token not yet valid")).toBe("not-yet-valid");
    expect(tokenFailureReason("Invalid token: wrong audience")).toBe("bad-claims");
    expect(tokenFailureReason("Invalid token: not a JWT")).toBe("malformed");
    expect(tokenFailureReason("Bad credentials: neither a token nor the publish token")).toBe("unknown-credential");
    expect(tokenFailureReason("something new")).toBe("other");
  });
});

describe("feed metrics", () => {
  it("counts requests, quotes by outcome and rounds, and reads the budget left (none without a limit)", () => {
    let left = 7;
    const m = new FeedMetrics(0, "finnhub", {
      activeSymbols: () => 3,
      budgetLeft: () => left,
      coldBudgetLeft: () => 2,
      requestsPerMinute: () => 60,
    });
    m.round(2, false, [
      undefined,
      { kind: "timeout", reason: "no answer in 5000 ms" },
      { kind: "unsupported", reason: "not a stock" },
    ]);
    m.round(0, true, []);
    m.firstQuote(true, "ok");
    m.firstQuote(false, "busy");
    const text = renderExposition([
      {
        object: "feed:0",
        kind: "scheduler",
        snapshot: m.snapshot({
          recent: [{ symbol: "AAPL", kind: "timeout", reason: "x", at: 0 }],
          counts: { timeout: 1 },
        }),
      },
    ]);
    expect(text).toContain('edge_ticker_feed_requests_total{object="feed:0",provider="finnhub",purpose="round"} 2');
    expect(text).toContain(
      'edge_ticker_feed_requests_total{object="feed:0",provider="finnhub",purpose="first-quote"} 1',
    );
    expect(text).toContain('edge_ticker_feed_quotes_total{object="feed:0",provider="finnhub",outcome="timeout"} 1');
    expect(text).toContain('edge_ticker_feed_quotes_total{object="feed:0",provider="finnhub",outcome="unsupported"} 1');
    expect(text).toContain('edge_ticker_feed_rounds_total{object="feed:0",provider="finnhub",limited="true"} 1');
    expect(text).toContain('edge_ticker_feed_budget_requests{object="feed:0",provider="finnhub",pool="rounds"} 7');
    expect(text).toContain('edge_ticker_active_symbols{object="feed:0",provider="finnhub"} 3');
    left = Number.POSITIVE_INFINITY;
    expect(
      renderExposition([{ object: "f", kind: "scheduler", snapshot: m.snapshot({ recent: [], counts: {} }) }]),
    ).not.toContain('pool="rounds"');
    expect(quoteOutcome(undefined)).toBe("ok");
  });
});

describe("status view", () => {
  it("merges hubs' busiest streams, sums the lag histograms, lists faults and objects that did not answer", () => {
    const a = hub([{ transport: "websocket", connected: true }]);
    a.open("websocket");
    a.delivered("ticker", 10);
    const b = hub();
    b.open("sockjs-xhr_polling");
    b.delivered("ticker", 700);
    const streamsA = hubStreamFigures([
      { key: "ticker.AAPL", kind: "ticker", subscriptions: 3, lastAt: 50 },
      { key: "ticker.IDLE", kind: "ticker", subscriptions: 0 },
    ]);
    const streamsB = hubStreamFigures([
      { key: "ticker.AAPL", kind: "ticker", subscriptions: 2, lastAt: 70 },
      { key: "ticker.MSFT", kind: "ticker", subscriptions: 1 },
    ]);
    expect(streamsA).toHaveLength(1);
    const feed = new FeedMetrics(0, "sim", {
      activeSymbols: () => 2,
      budgetLeft: () => Infinity,
      coldBudgetLeft: () => Infinity,
      requestsPerMinute: () => Infinity,
    });
    const view = buildStatus(
      [
        { object: "hub:enam:0", kind: "hub", snapshot: { ...a.snapshot(), streams: streamsA } },
        { object: "hub:enam:1", kind: "hub", snapshot: { ...b.snapshot(), streams: streamsB } },
        { object: "hub:enam:2", kind: "hub", error: "no answer within 2000 ms" },
        { object: "hub:weur:0", kind: "hub", snapshot: { ...hub().snapshot(), streams: [] } },
      ],
      [
        {
          object: "feed:0",
          kind: "scheduler",
          snapshot: feed.snapshot({
            recent: [{ symbol: "MSFT", kind: "timeout", reason: "slow", at: 1 }],
            counts: { timeout: 1 },
          }),
        },
      ],
      100,
      [{ object: "stream:x", kind: "stream", error: "no answer within 2000 ms" }],
    );
    expect(view.upstreams).toEqual([{ object: "stream:x", up: false, symbols: 0, reconnects: 0 }]);
    expect(view.hubs.map((h) => h.object)).toEqual(["hub:enam:0", "hub:enam:1", "hub:enam:2"]);
    expect(view.hubs[2]).toMatchObject({ up: false });
    expect(view.symbols).toEqual([
      { key: "ticker.AAPL", symbol: "AAPL", viewers: 5, lastAt: 70 },
      { key: "ticker.MSFT", symbol: "MSFT", viewers: 1, fault: "timeout: slow" },
    ]);
    expect(view.faults).toEqual([
      { where: "hub:enam:2", what: "did not answer: no answer within 2000 ms" },
      { where: "stream:x", what: "did not answer: no answer within 2000 ms" },
      { where: "MSFT", what: "timeout: slow" },
    ]);
    expect(view.lag.count).toBe(2);
    expect(view.lag.bounds).toEqual([...LAG_BUCKETS]);
    expect(view.lag.cumulative[LAG_BUCKETS.indexOf(0.01)]).toBe(1);
    expect(view.lag.cumulative[LAG_BUCKETS.indexOf(1)]).toBe(2);
    expect(
      hubStreamFigures(
        Array.from({ length: 50 }, (_, i) => ({ key: `ticker.S${i}`, kind: "ticker", subscriptions: i + 1 })),
      ),
    ).toHaveLength(TOP_STREAMS);
  });
});

describe("upstream stream metrics (for a stream feed object)", () => {
  it("reports its state, subscribed symbols, reconnects and what it received", async () => {
    const { StreamMetrics } = await import("../../worker/metrics/stream-metrics");
    let state = "open";
    const m = new StreamMetrics(0, "finnhub-ws", { state: () => state, symbols: () => 12 });
    m.reconnected();
    m.received(40);
    m.ticks(35);
    state = "backoff";
    const text = renderExposition([{ object: "stream:finnhub", kind: "stream", snapshot: m.snapshot() }]);
    expect(text).toContain(
      'edge_ticker_upstream_stream_state{object="stream:finnhub",provider="finnhub-ws",state="backoff"} 1',
    );
    expect(text).toContain('edge_ticker_upstream_subscribed_symbols{object="stream:finnhub",provider="finnhub-ws"} 12');
    expect(text).toContain('edge_ticker_upstream_reconnects_total{object="stream:finnhub",provider="finnhub-ws"} 1');
    expect(text).toContain('edge_ticker_upstream_messages_total{object="stream:finnhub",provider="finnhub-ws"} 40');
    expect(text).toContain('edge_ticker_upstream_ticks_total{object="stream:finnhub",provider="finnhub-ws"} 35');
  });
});
