/**
 * A quiet upstream is not a dead one. Alpaca (like Polygon and Binance) keeps its connection
 * alive with WebSocket pings, which the runtime answers itself and never shows the worker, and
 * sends nothing of its own while nothing trades. Against the Alpaca fake pinging every 250 ms
 * (and dropping a connection that does not pong within a second) with nothing trading: the
 * runtime answers the pings, the worker sees none of them (it still finds the connection
 * quiet and probes it with a subscribe it already has, once a silence), and keeps its one
 * connection; once the provider stops answering, the connection is replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamStatus } from "../../worker/objects/upstream-stream";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type FakeProvider, startFakeProvider } from "../support/fakes";
import { Collector, type Connected, connectStomp, sleep } from "../support/stomp";

async function stream(baseUrl: string): Promise<StreamStatus> {
  const res = await fetch(`${baseUrl}/healthz`, { headers: { Authorization: "Bearer test-publish-token" } });
  return ((await res.json()) as { streams: StreamStatus[] }).streams[0]!;
}

describe("a quiet Alpaca connection", () => {
  let fake: FakeProvider;
  let srv: DevServer;
  let client: Connected;
  /** Subscribe messages that asked for a symbol the connection had already: probes. */
  const probes = () => {
    const seen = new Map<number, Set<string>>();
    let n = 0;
    for (const m of fake.stream.truth.received) {
      const msg = JSON.parse(m.text) as { action?: string; trades?: string[] };
      if (msg.action !== "subscribe") continue;
      const had = seen.get(m.connection) ?? new Set<string>();
      if ((msg.trades ?? []).every((s) => had.has(s))) n++;
      for (const s of msg.trades ?? []) had.add(s);
      seen.set(m.connection, had);
    }
    return n;
  };

  beforeAll(async () => {
    fake = await startFakeProvider("alpaca", { stream: { protocolPingMs: 250, pongTimeoutMs: 1_000 } });
    fake.market.list("AAPL", { last: 190, prevClose: 188, volume: 1_000 });
    srv = await startDevServer({ vars: { ...fake.vars, STREAM_SILENCE_MS: "1000", TICK_INTERVAL_MS: "250" } });
    client = await connectStomp(srv.url);
  });
  afterAll(async () => {
    await client?.disconnect();
    await srv?.stop();
    await fake?.close();
  });

  it("is probed, not replaced: the runtime answers the provider's pings and the worker never sees them", async () => {
    const aapl = new Collector(client.client, "/topic/ticker.AAPL");
    await aapl.waitFor(1);
    await sleep(6_000);
    // Pinged 24 times, dropped after a second without a pong: still the one connection.
    expect(fake.stream.truth.connections.length).toBe(1);
    // The pings never reached the worker: it found the connection quiet once a second and asked.
    expect(probes()).toBeGreaterThanOrEqual(3);
    expect(probes()).toBeLessThanOrEqual(7);
    expect(await stream(srv.url)).toMatchObject({ state: "live", reconnects: 0, malformed: 0 });
  });

  it("is replaced once a probe goes unanswered", async () => {
    fake.stream.behaviour.muted = true;
    const deadline = Date.now() + 20_000;
    while (fake.stream.truth.connections.length < 2 && Date.now() < deadline) await sleep(100);
    expect(fake.stream.truth.connections.length).toBe(2);
  }, 25_000);
});
