import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { clockEnv, type ShiftedClock } from "./clock";

const ROOT = resolve(import.meta.dirname, "../..");

export interface DevServer {
  url: string;
  port: number;
  /** Process group of the server's processes (npx, wrangler or node, and workerd). */
  pid: number;
  /** Everything wrangler and the worker printed so far. */
  logs(): string;
  /** The lines of the server's output that say an exception went uncaught (none expected: errors are typed). */
  uncaught(): string[];
  /** Runs the worker's scheduled (cron) handler now. */
  triggerCron(): Promise<void>;
  /** Waits until `pattern` appears in the logs after `from` (an offset into logs()). */
  waitForLog(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `wrangler` runs `wrangler dev` (a proxy process in front of workerd, as developers use
 * it); `workerd` runs `npm start` (the built worker on one bare workerd process through
 * Miniflare, as self-hosters and benchmarks do). E2E_RUNTIME picks the default.
 */
export type Runtime = "wrangler" | "workerd";

export const DEFAULT_RUNTIME: Runtime = process.env.E2E_RUNTIME === "workerd" ? "workerd" : "wrangler";

export interface DevServerOptions {
  runtime?: Runtime;
  vars?: Record<string, string>;
  /** More command-line flags for the server (`--inspector-port N` for profiling). */
  extraArgs?: string[];
  /** Reuse a persistence directory (to test restarts); a fresh one by default. */
  persistDir?: string;
  /** Where the fresh persistence directory goes: the OS temp dir by default (`/dev/shm` puts the state on tmpfs). */
  stateIn?: string;
  port?: number;
  /** The worker's wall clock (a shifted one puts it inside a trading session whatever the date); the real one by default. */
  clock?: ShiftedClock;
  /** `stop()` fails when the log shows an uncaught exception, unless this is false (a test that provokes one on purpose). */
  failOnUncaught?: boolean;
}

/** A log line of an exception nobody caught: the runtime's "Uncaught" (an object's crash, an error thrown across RPC). */
const UNCAUGHT = /^.*\bUncaught\b.*$/gm;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** Starts the worker on 127.0.0.1 in the real workerd runtime (`wrangler dev` or `npm start`), fully offline. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  // A port found free can be taken by another file's server before ours binds it: pick again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(options.port ?? (await freePort()), options);
    } catch (err) {
      const taken = err instanceof Error && err.message.includes("Address already in use");
      if (!taken || options.port !== undefined || attempt === 3) throw err;
    }
  }
}

async function startOn(port: number, options: DevServerOptions): Promise<DevServer> {
  const inspector = await freePort();
  const ownPersist = options.persistDir === undefined;
  const persistDir = options.persistDir ?? mkdtempSync(join(options.stateIn ?? tmpdir(), "edge-ticker-"));
  // Tests keep apart by inventing symbols (HIBA, RESB, ...): the simulator prices any, unless a test asks for its
  // built-in universe. Every test talks from one address: the market-data API's per-address rate is raised.
  const vars = {
    PUBLISH_TOKEN: "test-publish-token",
    METRICS_TOKEN: "test-metrics-token",
    SIM_UNIVERSE: "any",
    API_REQUESTS_PER_SECOND: "10000",
    ...options.vars,
  };
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const runtime = options.runtime ?? DEFAULT_RUNTIME;
  const [command, args] =
    runtime === "workerd"
      ? [
          process.execPath,
          [
            "scripts/start.mjs",
            "--ip",
            "127.0.0.1",
            "--port",
            String(port),
            "--persist-to",
            persistDir,
            ...varArgs,
            ...(options.extraArgs ?? []),
          ],
        ]
      : [
          "npx",
          [
            "wrangler",
            "dev",
            "--ip",
            "127.0.0.1",
            "--port",
            String(port),
            "--inspector-port",
            String(inspector),
            "--persist-to",
            persistDir,
            "--show-interactive-dev-session=false",
            "--test-scheduled",
            ...varArgs,
          ],
        ];
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      NO_COLOR: "1",
      CI: "1",
      ...(options.clock ? clockEnv(options.clock) : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  let exited = false;
  child.once("exit", () => {
    exited = true;
    for (const w of waiters) w();
  });

  const waitForLog = (pattern: RegExp, timeoutMs = 30_000, from = 0) =>
    new Promise<string>((res, rej) => {
      const check = () => {
        const match = pattern.exec(output.slice(from));
        if (match) {
          cleanup();
          res(match[0]);
        } else if (exited) {
          cleanup();
          rej(new Error(`${runtime} exited before ${pattern}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        rej(new Error(`timed out waiting for ${pattern} in ${runtime} output:\n${output.slice(-4000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  await waitForLog(/Ready on http:\/\/127\.0\.0\.1:\d+/, 60_000);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    logs: () => output,
    uncaught: () => output.match(UNCAUGHT) ?? [],
    waitForLog,
    async triggerCron() {
      if (runtime === "workerd") {
        process.kill(child.pid!, "SIGUSR2"); // npm start runs the cron handler on SIGUSR2
        return;
      }
      // wrangler dev's cron trigger (its /cdn-cgi/handler/scheduled twin fails once static assets are configured).
      const res = await fetch(`http://127.0.0.1:${port}/__scheduled?cron=*+*+*+*+*`);
      if (res.status !== 200) throw new Error(`/__scheduled answered ${res.status}`);
    },
    async stop() {
      if (!exited && child.pid) {
        const gone = new Promise<void>((res) => child.once("exit", () => res()));
        try {
          process.kill(-child.pid, "SIGTERM"); // the whole group: npx, wrangler and workerd
        } catch {
          // already gone
        }
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
        if (!exited) {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
      if (ownPersist) rmSync(persistDir, { recursive: true, force: true });
      const uncaught = output.match(UNCAUGHT) ?? [];
      if (options.failOnUncaught !== false && uncaught.length > 0)
        throw new Error(
          `${runtime} logged ${uncaught.length} uncaught exception(s):\n${uncaught.slice(0, 5).join("\n")}`,
        );
    },
  };
}
