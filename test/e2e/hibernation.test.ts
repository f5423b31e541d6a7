import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import { Collector, connectStomp, sleep, type TickBody } from "../support/stomp";
import { signToken, TEST_SECRET } from "../support/tokens";

const TOKEN = "test-publish-token";
// Ticks far apart, so the objects go idle and workerd evicts them (after 10 s without events).
// One hub, so every connection of the test shares it; no heart-beat sweep alarm in the window.
const VARS = {
  TICK_INTERVAL_MS: "60000",
  PUBLISH_HOLD_MS: "0",
  HUB_SHARDS: "1",
  HEARTBEAT_MS: "0",
  SOCKJS_HEARTBEAT_MS: "3600000",
  AUTH_JWT_SECRET: TEST_SECRET,
};
const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-hib-"));
let srv: DevServer | undefined;

afterAll(async () => {
  await srv?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

async function publish(symbol: string, price: number): Promise<void> {
  const res = await postTicks(srv!.url, { symbol, price }, TOKEN);
  expect(res.status).toBe(200);
}

/** Each time the hub's instance was (re)built, with the sockets it restored. */
function started(logs: string): Array<{ sockets: number }> {
  return [...logs.matchAll(/\{"event":"hub_started"[^\n]*\}/g)].map(
    (m) => JSON.parse(m[0]) as { hub: string; sockets: number },
  );
}

describe("hibernation and restarts", () => {
  it("keeps subscriptions through eviction: heart-beats do not wake the hub, ticks do, seq never repeats", async () => {
    srv = await startDevServer({ vars: VARS, persistDir });
    const c = await connectStomp(srv.url, "HIBA");
    const home = new Collector(c.client, "/topic/ticker.HIBA");
    const remote = new Collector(c.client, "/topic/ticker.HIBB");
    // A SockJS-websocket session in the same hub hibernates the same way.
    const viaSockJS = await connectStomp(srv.url, "HIBA", { sockjs: "websocket" });
    const sockjsHome = new Collector(viaSockJS.client, "/topic/ticker.HIBA");
    // A token's claims live in the socket's attachment: after the wake, its sym list still holds.
    const limited = await connectStomp(srv.url, undefined, {
      headers: { passcode: await signToken({ sym: ["HIBA"] }, { expiresIn: 3_600 }) },
    });
    const limitedHome = new Collector(limited.client, "/topic/ticker.HIBA");
    await Promise.all([home.waitFor(1), remote.waitFor(1), sockjsHome.waitFor(1), limitedHome.waitFor(1)]);
    // Log lines may reach us a moment after the frames (a pipe in between under npm start).
    await expect.poll(() => started(srv!.logs())).toEqual([expect.objectContaining({ sockets: 0 })]);

    await sleep(15_000); // idle: the runtime evicts the hub and both sources
    const socket = c.client.webSocket!;
    const echoed = new Promise<void>((res, rej) => {
      setTimeout(
        () => rej(new Error("no echo of the client heart-beat within 5 s: is the WebSocket auto-response set?")),
        5_000,
      );
      const prev = socket.onmessage;
      socket.onmessage = (ev) => {
        if (ev.data === "\n") res();
        prev?.call(socket, ev);
      };
    });
    socket.send("\n"); // a client heart-beat, answered by the runtime
    await echoed;
    await sleep(1_500);
    expect(started(srv.logs()), "a heart-beat woke the hub").toHaveLength(1);

    await publish("HIBA", 101.25);
    await publish("HIBB", 202.5);
    const [h, r] = await Promise.all([home.waitFor(2), remote.waitFor(2)]);
    // The hub was rebuilt from the hibernated sockets' attachments.
    await expect.poll(() => started(srv!.logs()).at(-1)).toEqual(expect.objectContaining({ sockets: 3 }));
    expect(h[1]).toEqual(expect.objectContaining({ price: 101.25, seq: h[0]!.seq + 1 }));
    expect(r[1]).toEqual(expect.objectContaining({ price: 202.5, seq: r[0]!.seq + 1 }));
    expect(home.messages[1]!.headers.subscription).toBe(home.subscription.id);
    expect(remote.messages[1]!.headers.subscription).toBe(remote.subscription.id);
    const [, s] = await sockjsHome.waitFor(2);
    expect(s).toEqual(expect.objectContaining({ price: 101.25, seq: h[0]!.seq + 1 }));
    expect(sockjsHome.messages[1]!.headers.subscription).toBe(sockjsHome.subscription.id);
    expect(c.errors).toEqual([]);
    expect(viaSockJS.errors).toEqual([]);
    await limitedHome.waitFor(2);
    limited.client.subscribe("/topic/ticker.HIBB", () => {});
    await expect.poll(() => limited.errors.map((e) => e.headers.message)).toEqual(["Not entitled"]);
    await Promise.all([c.disconnect(), viaSockJS.disconnect()]);
  });

  it("persists seq across a restart of the runtime", async () => {
    const res = await fetch(`${srv!.url}/api/quotes?symbols=HIBA`);
    const before = ((await res.json()) as { quotes: TickBody[] }).quotes[0]!;
    await srv!.stop();
    srv = await startDevServer({ vars: VARS, persistDir });
    const c = await connectStomp(srv.url, "HIBA");
    const col = new Collector(c.client, "/topic/ticker.HIBA");
    const [snapshot] = await col.waitFor(1);
    expect(snapshot).toEqual(expect.objectContaining({ seq: before.seq, price: before.price }));
    await publish("HIBA", 99.5);
    const ticks = await col.waitFor(2);
    expect(ticks[1]).toEqual(expect.objectContaining({ seq: before.seq + 1, price: 99.5 }));
    await c.disconnect();
  });
});
