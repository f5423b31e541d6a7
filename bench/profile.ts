/**
 * Where the server's time goes: a V8 CPU profile of the worker (hubs, sources and relays
 * share one isolate on workerd) under the watchlist load, taken through the DevTools
 * protocol on `npm start --inspector-port`. Prints self time by function, and writes the
 * profile to bench/results/ for DevTools. workerd does not tell V8 when the isolate is idle,
 * so waiting time lands on the last JS frame on the stack (an `await`ing alarm handler looks
 * busy): read the functions below the top few, and use `perf record -p <workerd pid>` for
 * where the process's CPU goes.
 *
 *   npm run profile                      # 500 clients × 20 of 100 symbols, 10 s
 *   PROFILE_CLIENTS=1000 PROFILE_SECONDS=15 npm run profile
 *   PROFILE_WORKLOAD=hot PROFILE_CLIENTS=1000 npm run profile   # one symbol published at 100 ticks/s
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type WebSocket from "ws";
import { freePort, startDevServer } from "../test/support/dev-server";
import { postTicks } from "../test/support/publish";
import { sleep } from "../test/support/stomp";
import { envNumber, runMain } from "./lib/cli";
import { inspectWorker } from "./lib/inspector";
import { openClients, Tally, watchlist } from "./lib/stomp-clients";

const CLIENTS = envNumber("PROFILE_CLIENTS", 500, 5_000);
const SECONDS = envNumber("PROFILE_SECONDS", 10, 60);
const HOT = process.env.PROFILE_WORKLOAD === "hot";
const TOKEN = "profile-publish-token";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

async function main(): Promise<void> {
  const inspectorPort = await freePort();
  const srv = await startDevServer({
    runtime: "workerd",
    vars: {
      HUB_SHARDS: "4",
      MAX_CONNECTIONS_PER_ADDRESS: "32768",
      HEARTBEAT_MS: "0",
      PUBLISH_TOKEN: TOKEN,
      ...(HOT ? { TICK_INTERVAL_MS: "3600000", PUBLISH_HOLD_MS: "3600000" } : { TICK_INTERVAL_MS: "1000" }),
    },
    extraArgs: ["--inspector-port", String(inspectorPort)],
  });
  const clients: WebSocket[] = [];
  try {
    clients.push(
      ...(await openClients(
        `${srv.url.replace(/^http/, "ws")}/ws`,
        CLIENTS,
        HOT ? () => ["HOT"] : watchlist,
        new Tally(),
      )),
    );
    await sleep(3_000);
    let publishing: ReturnType<typeof setInterval> | undefined;
    if (HOT)
      publishing = setInterval(
        () =>
          void postTicks(srv.url, { symbol: "HOT", price: 100 + Math.random(), ts: Date.now() }, TOKEN).catch(
            () => undefined,
          ),
        10,
      );
    const send = await inspectWorker(inspectorPort);
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: 200 });
    await send("Profiler.start");
    await sleep(SECONDS * 1000);
    clearInterval(publishing);
    const { profile } = (await send("Profiler.stop")) as {
      profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    };
    mkdirSync(resolve(import.meta.dirname, "results"), { recursive: true });
    const file = resolve(import.meta.dirname, "results", `worker-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id)!.callFrame;
      const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop() ?? ""}:${frame.lineNumber + 1}`;
      self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(
      `\nworker CPU profile, ${CLIENTS} clients × ${HOT ? "1 symbol at 100 ticks/s" : "20 of 100 symbols"}, ${SECONDS} s (${file})`,
    );
    for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
    }
  } finally {
    for (const ws of clients) ws.terminate();
    await srv.stop();
  }
}

runMain(main);
