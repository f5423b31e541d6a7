/**
 * Dead connections are reaped whatever the runtime does with the hub in between: evicted
 * between liveness sweeps (a sweep period longer than the ~10 s the runtime keeps an idle
 * object), or woken by its alarm after a restart, when the runtime gives it no name.
 * Bare workerd (`npm start`); each test takes most of a minute of real time, as eviction does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { RawStomp } from "../support/raw-stomp";
import { sleep } from "../support/stomp";

const PERIOD_MS = 15_000;
const GRACE_MS = 2_000;
// Objects go idle between events: no feed ticks, no SockJS heart-beats; the sweep runs every PERIOD_MS.
const VARS = {
  HUB_SHARDS: "1",
  HEARTBEAT_MS: String(PERIOD_MS),
  SOCKJS_HEARTBEAT_MS: "3600000",
  TICK_INTERVAL_MS: "3600000",
};

const servers: DevServer[] = [];
const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-live-"));
afterAll(async () => {
  for (const s of servers) await s.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

/** Each time a hub's instance was (re)built, by name. */
const hubStarts = (logs: string) =>
  [...logs.matchAll(/\{"event":"hub_started"[^\n]*\}/g)].map((m) => (JSON.parse(m[0]) as { hub: string }).hub);

describe("liveness across hibernation", () => {
  // Each test has its own server: they wait side by side.
  it.concurrent("closes a socket whose heart-beats stopped within two periods plus the grace (and one sweep), though the hub was evicted between sweeps", async () => {
    const srv = await startDevServer({ runtime: "workerd", vars: VARS });
    servers.push(srv);
    const client = await RawStomp.open(srv.url);
    await client.connect("1.2", `heart-beat:${PERIOD_MS},0\n`);
    let lastBeat = Date.now();
    for (let i = 0; i < 2; i++) {
      await sleep(5_000);
      client.send("\n"); // answered by the runtime's auto-response, without waking the hub
      lastBeat = Date.now();
    }
    const { code, reason } = await client.waitClosed(2 * PERIOD_MS + GRACE_MS + PERIOD_MS + 10_000);
    const closedAfter = Date.now() - lastBeat;
    expect({ code, reason }).toEqual({ code: 4000, reason: "heart-beat timeout" });
    expect(closedAfter).toBeGreaterThan(2 * PERIOD_MS);
    expect(closedAfter).toBeLessThan(2 * PERIOD_MS + GRACE_MS + PERIOD_MS + 3_000);
    // The case that matters: the hub was evicted and woken by its alarm at least once meanwhile.
    expect(hubStarts(srv.logs()).length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it.concurrent("a hub woken by its alarm after a restart (the runtime gives it no name) knows its name and does its work", async () => {
    const first = await startDevServer({ runtime: "workerd", vars: VARS, persistDir });
    servers.push(first);
    const client = await RawStomp.open(first.url);
    await client.connect("1.2", `heart-beat:${PERIOD_MS},0\n`); // arms the hub's sweep alarm
    const [name] = hubStarts(first.logs());
    expect(name).toMatch(/^hub:/);
    await first.stop();
    const second = await startDevServer({ runtime: "workerd", vars: VARS, persistDir });
    servers.push(second);
    // No request reaches it: only the alarm wakes the hub.
    await second.waitForLog(/"event":"hub_started"/, PERIOD_MS + 15_000);
    expect(hubStarts(second.logs())).toEqual([name]);
    await sleep(1_000);
    expect(second.logs()).not.toMatch(/addressed by name|Uncaught/);
  }, 90_000);
});
