/**
 * A quiet upstream is not a dead one. Alpaca (like Polygon and Binance) keeps its connection
 * alive with WebSocket pings, which the runtime answers itself and never shows the worker, and
 * sends nothing of its own while nothing trades. Against a server on 127.0.0.1 that speaks
 * Alpaca's control messages, pings every 250 ms and never trades: the runtime answers the
 * pings, the worker sees none of them, probes the quiet connection with a subscribe it already
 * has, and keeps the one connection; once the server stops answering, the connection is
 * replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import type { StreamStatus } from "../../worker/objects/upstream-stream";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type FakeProviders, GOOD_KEY, startFakeProviders } from "../support/fake-providers";
import { GOOD_SECRET } from "../support/fake-streams";
import { Collector, type Connected, connectStomp, sleep } from "../support/stomp";

interface QuietAlpaca {
  url: string;
  connections: number;
  pongs: number;
  /** Subscribe messages after the first one per connection: probes. */
  probes: number;
  /** Stop answering anything (the connection stays open). */
  mute: boolean;
  close(): Promise<void>;
}

async function startQuietAlpaca(): Promise<QuietAlpaca> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const server: QuietAlpaca = {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/v2/{feed}`,
    connections: 0,
    pongs: 0,
    probes: 0,
    mute: false,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
  wss.on("connection", (ws: WebSocket) => {
    server.connections++;
    const subscribed = new Set<string>();
    const send = (m: unknown) => !server.mute && ws.send(JSON.stringify([m]));
    send({ T: "success", msg: "connected" });
    const pinger = setInterval(() => ws.ping("keepalive"), 250);
    ws.on("pong", () => server.pongs++);
    ws.on("close", () => clearInterval(pinger));
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { action?: string; key?: string; trades?: string[] };
      if (m.action === "auth") return send({ T: "success", msg: "authenticated" });
      if (m.action !== "subscribe") return;
      if ((m.trades ?? []).every((s) => subscribed.has(s)) && subscribed.size > 0) server.probes++;
      for (const s of m.trades ?? []) subscribed.add(s);
      send({ T: "subscription", trades: [...subscribed], quotes: [...subscribed], bars: [] });
    });
  });
  return server;
}

async function stream(baseUrl: string): Promise<StreamStatus> {
  const res = await fetch(`${baseUrl}/healthz`, { headers: { Authorization: "Bearer test-publish-token" } });
  return ((await res.json()) as { streams: StreamStatus[] }).streams[0]!;
}

describe("a quiet Alpaca connection", () => {
  let rest: FakeProviders;
  let upstream: QuietAlpaca;
  let srv: DevServer;
  let client: Connected;

  beforeAll(async () => {
    rest = await startFakeProviders();
    upstream = await startQuietAlpaca();
    srv = await startDevServer({
      vars: {
        FEED_PROVIDER: "alpaca",
        FEED_BASE_URL: rest.url,
        FEED_STREAM_URL: upstream.url,
        FEED_API_KEY: GOOD_KEY,
        FEED_API_SECRET: GOOD_SECRET,
        STREAM_SILENCE_MS: "1000",
        TICK_INTERVAL_MS: "250",
      },
    });
    client = await connectStomp(srv.url);
  });
  afterAll(async () => {
    await client?.disconnect();
    await srv?.stop();
    await upstream?.close();
    await rest?.close();
  });

  it("is probed, not replaced: the runtime answers the provider's pings and the worker never sees them", async () => {
    const aapl = new Collector(client.client, "/topic/ticker.AAPL");
    await aapl.waitFor(1);
    await sleep(6_000);
    expect(upstream.connections).toBe(1);
    expect(upstream.pongs).toBeGreaterThan(15);
    // One probe per second of silence (STREAM_SILENCE_MS), each answered.
    expect(upstream.probes).toBeGreaterThanOrEqual(3);
    expect(upstream.probes).toBeLessThanOrEqual(7);
    const status = await stream(srv.url);
    expect(status).toMatchObject({ state: "live", reconnects: 0, malformed: 0 });
  });

  it("is replaced once a probe goes unanswered", async () => {
    upstream.mute = true;
    const deadline = Date.now() + 20_000;
    while (upstream.connections < 2 && Date.now() < deadline) await sleep(100);
    expect(upstream.connections).toBe(2);
  }, 25_000);
});
