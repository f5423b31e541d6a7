/**
 * GET /metrics on `npm start` (bare workerd) after a known workload: connections over raw
 * WebSocket, SockJS over WebSocket and SockJS xhr-streaming, subscriptions, published
 * ticks, refused tokens and a full hub. Every figure must read what happened; a real
 * Prometheus (Debian's package) scrapes the server and answers PromQL; promtool accepts
 * the exposition; a restarted hub's counters start again from 0 under a newer start time.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type Exposition, scrape, startPrometheus } from "../support/prometheus";
import { postTicks } from "../support/publish";
import { Collector, type Connected, connectStomp, sleep } from "../support/stomp";

const TOKEN = "test-publish-token";
/** The read-only metrics token (never the publish token). */
const METRICS = "test-metrics-token";
const VARS = {
  HUB_SHARDS: "1",
  HUB_MAX_CONNECTIONS: "7",
  // Prices only from the test's publishes.
  TICK_INTERVAL_MS: "3600000",
  PUBLISH_HOLD_MS: "3600000",
  INTEREST_DEBOUNCE_MS: "50",
};
const HUB = { object: "hub:enam:0" };
const SYMBOLS = ["MTRA", "MTRB"];
const TICKS = 5;
const BAD_TOKENS = 2;
const PER_TRANSPORT = { websocket: 3, "sockjs-websocket": 2, "sockjs-xhr_streaming": 2 } as const;
const CONNECTIONS = 7;

let srv: DevServer;
const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-metrics-"));
const clients: Connected[] = [];
const collectors: Array<Collector & { symbol?: string }> = [];
let workload: Exposition;

beforeAll(async () => {
  srv = await startDevServer({ runtime: "workerd", vars: VARS, persistDir });
  // Refused tokens: each connection is opened, sent an ERROR, and closed.
  for (let i = 0; i < BAD_TOKENS; i++) {
    await expect(connectStomp(srv.url, undefined, { headers: { passcode: "not-the-token" } })).rejects.toThrow(
      /STOMP ERROR/,
    );
  }
  const open = async (sockjs?: "websocket" | "xhr-streaming") => {
    const c = await connectStomp(srv.url, undefined, sockjs ? { sockjs } : {});
    clients.push(c);
    for (const symbol of SYMBOLS)
      collectors.push(Object.assign(new Collector(c.client, `/topic/ticker.${symbol}`), { symbol }));
  };
  for (let i = 0; i < PER_TRANSPORT.websocket; i++) await open();
  for (let i = 0; i < PER_TRANSPORT["sockjs-websocket"]; i++) await open("websocket");
  for (let i = 0; i < PER_TRANSPORT["sockjs-xhr_streaming"]; i++) await open("xhr-streaming");
  for (const c of collectors) await c.waitFor(1);
  for (let i = 1; i <= TICKS; i++) {
    const res = await postTicks(srv.url, { symbol: "MTRA", price: 100 + i }, TOKEN);
    expect(res.status).toBe(200);
  }
  // The snapshot and the published ticks of MTRA; MTRB's snapshot only.
  for (const c of collectors) await c.waitFor(c.symbol === "MTRA" ? 1 + TICKS : 1);
  // The hub is full: the next connection is turned away.
  const refused = await new Promise<number>((res) => {
    const ws = new WebSocket(`${srv.url.replace(/^http/, "ws")}/ws`, ["v12.stomp"]);
    ws.on("unexpected-response", (_req, response) => res(response.statusCode ?? 0));
    ws.on("open", () => res(101));
  });
  expect(refused).toBe(503);
  await sleep(300);
  workload = await scrape(srv.url, METRICS);
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await srv?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

describe("GET /metrics after a known workload", () => {
  it("asks for the metrics token", async () => {
    expect((await fetch(`${srv.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${srv.url}/metrics`, { headers: { Authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("x-error-code")).toBe("invalid-token");
  });

  it("reports every hub of every region and the scheduler as up, each labelled by object", () => {
    expect(workload.sum("edge_ticker_up", { kind: "hub" })).toBe(9);
    expect(workload.sum("edge_ticker_up", { object: "feed:0", kind: "scheduler" })).toBe(1);
    expect(workload.has("edge_ticker_start_time_seconds", HUB)).toBe(true);
  });

  it("counts connections and sessions by transport, opens and closes, and the refusal of the full hub", () => {
    for (const [transport, n] of Object.entries(PER_TRANSPORT)) {
      expect(workload.sum("edge_ticker_connections", { ...HUB, transport }), transport).toBe(n);
      expect(workload.sum("edge_ticker_sessions", { ...HUB, transport }), transport).toBe(n);
      const opened = transport === "websocket" ? n + BAD_TOKENS : n;
      expect(workload.sum("edge_ticker_connections_opened_total", { ...HUB, transport }), transport).toBe(opened);
    }
    expect(workload.sum("edge_ticker_connections")).toBe(CONNECTIONS);
    expect(workload.sum("edge_ticker_connections_closed_total", { ...HUB, transport: "websocket" })).toBe(BAD_TOKENS);
    expect(workload.sum("edge_ticker_refusals_total", { ...HUB, reason: "full" })).toBe(1);
    expect(workload.sum("edge_ticker_refusals_total", { reason: "per-address" })).toBe(0);
  });

  it("counts the refused tokens by reason and their ERROR frames", () => {
    expect(workload.sum("edge_ticker_token_failures_total", { ...HUB, reason: "unknown-credential" })).toBe(BAD_TOKENS);
    expect(workload.sum("edge_ticker_token_failures_total")).toBe(BAD_TOKENS);
    expect(workload.sum("edge_ticker_stomp_errors_total", { code: "invalid-token" })).toBe(BAD_TOKENS);
    expect(workload.sum("edge_ticker_inbound_limit_closes_total")).toBe(0);
    expect(workload.sum("edge_ticker_heartbeat_timeouts_total")).toBe(0);
  });

  it("counts subscriptions, delivered ticks with their lag, and the frames the clients received", () => {
    expect(workload.sum("edge_ticker_subscriptions", { ...HUB, stream: "ticker" })).toBe(CONNECTIONS * SYMBOLS.length);
    expect(workload.sum("edge_ticker_streams_held", HUB)).toBe(SYMBOLS.length);
    expect(workload.sum("edge_ticker_frames_delivered_total", { ...HUB, stream: "ticker" })).toBe(TICKS);
    expect(workload.sum("edge_ticker_delivery_lag_seconds_count", { ...HUB, stream: "ticker" })).toBe(TICKS);
    expect(workload.sum("edge_ticker_delivery_lag_seconds_bucket", { ...HUB, stream: "ticker", le: "+Inf" })).toBe(
      TICKS,
    );
    const lagSum = workload.sum("edge_ticker_delivery_lag_seconds_sum", HUB);
    expect(lagSum).toBeGreaterThanOrEqual(0);
    expect(lagSum / TICKS).toBeLessThan(5);
    // What the clients got is what the hub says it sent: snapshots and ticks (MESSAGE), CONNECTED and the two ERRORs.
    const received = collectors.reduce((n, c) => n + c.messages.length, 0);
    expect(received).toBe(CONNECTIONS * (SYMBOLS.length + TICKS));
    expect(collectors.filter((c) => c.symbol === "MTRA").map((c) => c.ticks.map((t) => t.price))).toEqual(
      Array.from({ length: CONNECTIONS }, () => [expect.any(Number), 101, 102, 103, 104, 105]),
    );
    expect(workload.sum("edge_ticker_frames_sent_total", { ...HUB, kind: "message" })).toBe(received);
    expect(workload.sum("edge_ticker_frames_sent_total", { ...HUB, kind: "control" })).toBe(CONNECTIONS + BAD_TOKENS);
    const bodies = collectors.flatMap((c) => c.messages).reduce((n, m) => n + m.body.length, 0);
    expect(workload.sum("edge_ticker_sent_bytes_total", HUB)).toBeGreaterThan(bodies);
    const writes = workload.sum("edge_ticker_transport_messages_sent_total", HUB);
    expect(writes).toBeGreaterThanOrEqual(CONNECTIONS + BAD_TOKENS);
    expect(writes).toBeLessThanOrEqual(received + CONNECTIONS + 2 * BAD_TOKENS);
    expect(workload.sum("edge_ticker_replayed_ticks_total")).toBe(0);
    expect(workload.sum("edge_ticker_resume_gaps_total")).toBe(0);
  });

  it("counts the feed: two first quotes, two active symbols, no round yet", () => {
    expect(
      workload.sum("edge_ticker_feed_first_quotes_total", { object: "feed:0", provider: "sim", outcome: "ok" }),
    ).toBe(SYMBOLS.length);
    expect(workload.sum("edge_ticker_feed_requests_total", { purpose: "first-quote" })).toBe(SYMBOLS.length);
    expect(workload.sum("edge_ticker_active_symbols", { object: "feed:0" })).toBe(SYMBOLS.length);
    expect(workload.sum("edge_ticker_feed_rounds_total")).toBe(0);
  });

  it("is accepted by promtool with no warning", () => {
    const check = spawnSync(process.env.PROMTOOL_PATH ?? "promtool", ["check", "metrics"], {
      input: workload.text,
      encoding: "utf8",
    });
    expect(check.error).toBeUndefined();
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
  });

  it("is scraped by a real Prometheus, whose PromQL answers the connection count", async () => {
    const prom = await startPrometheus(`127.0.0.1:${srv.port}`, METRICS);
    try {
      let connections: number | undefined;
      for (let i = 0; i < 60 && connections !== CONNECTIONS; i++) {
        await sleep(500);
        connections = await prom.query("sum(edge_ticker_connections)");
      }
      expect(connections).toBe(CONNECTIONS);
      expect(await prom.query('sum(edge_ticker_connections{transport=~"sockjs-.*"})')).toBe(4);
      expect(await prom.query('up{job="edge-ticker"}')).toBe(1);
      expect(await prom.query("sum(edge_ticker_up)")).toBe(10);
    } finally {
      await prom.stop();
    }
  }, 60_000);

  it("a restarted hub's counters start again from 0 under a newer start time", async () => {
    const before = workload.sum("edge_ticker_start_time_seconds", HUB);
    for (const c of clients.splice(0)) await c.disconnect().catch(() => undefined);
    await srv.stop();
    srv = await startDevServer({ runtime: "workerd", vars: VARS, persistDir });
    const c = await connectStomp(srv.url);
    clients.push(c);
    await new Collector(c.client, "/topic/ticker.MTRA").waitFor(1);
    const after = await scrape(srv.url, METRICS);
    expect(after.sum("edge_ticker_start_time_seconds", HUB)).toBeGreaterThan(before);
    // A reset, as Prometheus reads it: the counter is below its last value, and counts only what came after.
    expect(after.sum("edge_ticker_connections_opened_total", HUB)).toBe(1);
    expect(after.sum("edge_ticker_connections_opened_total", HUB)).toBeLessThan(
      workload.sum("edge_ticker_connections_opened_total", HUB),
    );
    expect(after.sum("edge_ticker_frames_sent_total", { ...HUB, kind: "message" })).toBe(1);
    expect(after.sum("edge_ticker_connections", HUB)).toBe(1);
  }, 60_000);
});
