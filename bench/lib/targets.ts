import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { type DevServer, freePort, startDevServer } from "../../test/support/dev-server";
import { postTicks } from "../../test/support/publish";

/** A tick as the bench publishes it. */
export interface BenchTick {
  symbol: string;
  price: number;
  ts: number;
}

/** A server under test: where clients connect, its processes, and how ticks reach it. */
export interface Target {
  label: string;
  wsUrl: string;
  /** Process group and the name of the processes whose CPU and memory count. */
  pgid: number;
  proc: string;
  publish(ticks: BenchTick[]): Promise<void>;
  stop(): Promise<void>;
}

const PUBLISH_TOKEN = "bench-publish-token";

/** Edge Ticker on `npm start` (one bare workerd process), its state in a fresh directory under `stateIn`. */
export async function edgeTicker(label: string, vars: Record<string, string>, stateIn?: string): Promise<Target> {
  const srv: DevServer = await startDevServer({
    runtime: "workerd",
    stateIn,
    vars: {
      PUBLISH_TOKEN,
      HEARTBEAT_MS: "0",
      MAX_CONNECTIONS_PER_ADDRESS: "32768", // every bench client comes from 127.0.0.1
      HUB_MAX_CONNECTIONS: "32768",
      ...vars,
    },
  });
  return {
    label,
    wsUrl: `${srv.url.replace(/^http/, "ws")}/ws`,
    pgid: srv.pid,
    proc: "workerd",
    async publish(ticks) {
      const res = await postTicks(srv.url, ticks, PUBLISH_TOKEN);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`POST /api/ticks answered ${res.status}`);
    },
    stop: () => srv.stop(),
  };
}

/** A fixture server (`fixtures/*.mjs PORT`) taking ticks on POST /publish. */
async function fixture(label: string, script: string, proc: string, args: string[] = []): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve(import.meta.dirname, "../fixtures", script), String(port), ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    detached: true,
  });
  await new Promise<void>((res, rej) => {
    child.once("exit", (code) => rej(new Error(`${script} exited with ${code}`)));
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("Ready") && res());
  });
  let seq = 0;
  return {
    label,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    pgid: child.pid!,
    proc,
    async publish(ticks) {
      seq++;
      const res = await fetch(`http://127.0.0.1:${port}/publish`, {
        method: "POST",
        body: JSON.stringify(ticks.map((t) => ({ ...t, seq }))),
      });
      await res.arrayBuffer();
    },
    async stop() {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 500));
    },
  };
}

/** The least a Durable Object broadcaster can do, on bare workerd: the runtime's floor (with or without permessage-deflate). */
export const trivialBroadcaster = (compression: boolean) => () =>
  fixture(`trivial DO broadcaster${compression ? ", permessage-deflate" : ""}`, "trivial-broadcaster.mjs", "workerd", [
    compression ? "on" : "off",
  ]);

/** A plain Node `ws` broadcast with no runtime. */
export const nodeBaseline = () => fixture("node ws", "ws-baseline.mjs", "node");
