/**
 * Watchlist benchmark: N clients, each subscribed to K symbols of a universe of U, one
 * simulated tick per symbol per round (TICK_INTERVAL_MS). Runs Edge Ticker on bare
 * workerd (`npm start`) over H hubs, and in the same invocation a plain Node `ws` server
 * doing the same fan-out with no protocol, as the baseline the figures are compared to.
 * Prints MESSAGE frames/s, WebSocket messages/s, round→frame latency p50/p99, server CPU
 * per frame (from /proc: utime+stime of the server processes) and RSS per connection.
 *
 *   npm run bench                           # 10,000 clients × 20 of 100 symbols, 8 hubs
 *   WL_CLIENTS=1000 WL_SECONDS=10 npm run bench
 *   WL_URL=http://127.0.0.1:8787 WL_PID=<pgid> npm run bench   # an already running server
 *   WL_LEGACY_URL=1 …                                # connect to /ws/{SYMBOL} (servers before hubs)
 *   WL_INTERVAL_MS=250 WL_THROTTLE_MS=1000 …         # also a run with x-throttle-ms (conflation)
 *
 * Traffic goes to 127.0.0.1 only; counts and duration are bounded; it stops by itself.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import WebSocket from "ws";
import { freePort, startDevServer } from "../test/support/dev-server";
import { sleep } from "../test/support/stomp";
import { percentile, usage } from "./lib/proc";
import { envNumber, runMain } from "./lib/cli";

const CLIENTS = envNumber("WL_CLIENTS", 10_000, 20_000);
const PER_CLIENT = envNumber("WL_PER_CLIENT", 20, 100);
const UNIVERSE = envNumber("WL_UNIVERSE", 100, 1_000);
const HUBS = envNumber("WL_HUBS", 8, 64);
const SECONDS = envNumber("WL_SECONDS", 15, 120);
const INTERVAL_MS = envNumber("WL_INTERVAL_MS", 1_000, 60_000);
const BASELINE = process.env.WL_BASELINE !== "0";
/** With a throttle, a second Edge Ticker run subscribes with `x-throttle-ms` to show what conflation saves. */
const THROTTLE_MS = envNumber("WL_THROTTLE_MS", 0, 60_000);

const SYMBOLS = Array.from({ length: UNIVERSE }, (_, i) => `W${String(i).padStart(3, "0")}`);

/** Client i's watchlist: K distinct symbols, spread so every symbol is watched about equally. */
function watchlist(i: number): string[] {
  const out = new Set<string>();
  for (let j = 0; out.size < Math.min(PER_CLIENT, UNIVERSE); j++) out.add(SYMBOLS[(i * 7 + j * 13 + Math.floor(j / UNIVERSE)) % UNIVERSE]!);
  return [...out];
}

interface Stats {
  frames: number;
  messages: number;
  latencies: number[];
  rounds: Set<number>;
  /** Frames that arrived before measuring began (snapshots and warm-up). */
  warm: number;
}

/** A bare STOMP (or baseline) client: counts frames and records tick-to-arrival latency. */
function openClient(
  url: string,
  symbols: string[],
  kind: "stomp" | "baseline",
  stats: Stats,
  window: { from: number; to: number },
  throttleMs: number,
): Promise<WebSocket> {
  return new Promise((res, rej) => {
    // WL_LEGACY_URL: /ws/{first symbol}, as clients of the per-symbol design connected.
    const target = kind === "stomp" && process.env.WL_LEGACY_URL === "1" ? `${url}/${symbols[0]}` : url;
    const ws = new WebSocket(target, kind === "stomp" ? ["v12.stomp"] : []);
    let subscribed = false;
    ws.on("open", () => {
      if (kind === "stomp") ws.send("CONNECT\naccept-version:1.2\nhost:bench\n\n\0");
      else ws.send(symbols.join(","));
      if (kind === "baseline") res(ws);
    });
    ws.on("message", (data) => {
      const text = data.toString();
      if (kind === "stomp" && !subscribed) {
        if (!text.startsWith("CONNECTED")) return rej(new Error(`expected CONNECTED, got ${text.slice(0, 80)}`));
        subscribed = true;
        const throttle = throttleMs > 0 ? `x-throttle-ms:${throttleMs}\n` : "";
        ws.send(symbols.map((s, i) => `SUBSCRIBE\nid:${i}\ndestination:/topic/ticker.${s}\n${throttle}\n\0`).join(""));
        return res(ws);
      }
      const now = Date.now();
      stats.messages++;
      for (let at = text.indexOf('"ts":'); at >= 0; at = text.indexOf('"ts":', at + 5)) {
        const ts = Number(text.slice(at + 5, text.indexOf(",", at)));
        if (ts < window.from || ts > window.to) {
          stats.warm++;
          continue;
        }
        stats.frames++;
        stats.rounds.add(ts);
        stats.latencies.push(now - ts);
      }
    });
    ws.on("error", rej);
  });
}

interface Result {
  label: string;
  framesPerSecond: number;
  roundsPerSecond: number;
  messagesPerSecond: number;
  delivered: number;
  p50: number;
  p99: number;
  cpuUsPerFrame: number;
  rssPerConnection: number;
  connectSeconds: number;
}

async function run(label: string, url: string, pgid: number, procName: string, kind: "stomp" | "baseline", throttleMs = 0): Promise<Result> {
  const stats: Stats = { frames: 0, messages: 0, latencies: [], rounds: new Set(), warm: 0 };
  const window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  const clients: WebSocket[] = [];
  const idle = usage(pgid, procName);
  const t0 = Date.now();
  try {
    for (let i = 0; i < CLIENTS; i += 250) {
      const batch = Array.from({ length: Math.min(250, CLIENTS - i) }, (_, j) => openClient(url, watchlist(i + j), kind, stats, window, throttleMs));
      clients.push(...(await Promise.all(batch)));
      if (clients.length % 2_000 === 0) console.log(`${label}: ${clients.length} connected`);
    }
    const connectSeconds = (Date.now() - t0) / 1000;
    console.log(`${label}: ${CLIENTS} clients connected in ${connectSeconds.toFixed(1)} s; measuring ${SECONDS} s`);
    await sleep(Math.max(3_000, 2 * INTERVAL_MS)); // snapshots and the first rounds settle
    const before = usage(pgid, procName);
    window.from = Date.now();
    window.to = window.from + SECONDS * 1000;
    await sleep(SECONDS * 1000);
    const after = usage(pgid, procName);
    await sleep(Math.min(5_000, 2 * INTERVAL_MS)); // stragglers of the last rounds in the window
    const expected = stats.rounds.size * CLIENTS * PER_CLIENT;
    const lat = [...stats.latencies].sort((a, b) => a - b);
    return {
      label,
      framesPerSecond: stats.frames / SECONDS,
      roundsPerSecond: stats.rounds.size / SECONDS,
      messagesPerSecond: stats.messages / (SECONDS + Math.min(5, (2 * INTERVAL_MS) / 1000)),
      delivered: expected === 0 ? 0 : stats.frames / expected,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      cpuUsPerFrame: stats.frames === 0 ? Number.NaN : (after.cpuUs - before.cpuUs) / stats.frames,
      rssPerConnection: (after.rssBytes - idle.rssBytes) / CLIENTS,
      connectSeconds,
    };
  } finally {
    for (const ws of clients) ws.terminate();
  }
}

async function baseline(): Promise<Result> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve(import.meta.dirname, "fixtures/ws-baseline.mjs"), String(port), String(INTERVAL_MS)], {
    stdio: ["pipe", "pipe", "inherit"],
    detached: true,
  });
  try {
    await new Promise<void>((res) => child.stdout!.on("data", (d: Buffer) => d.toString().includes("Ready") && res()));
    return await run("node ws baseline", `ws://127.0.0.1:${port}`, child.pid!, "node", "baseline");
  } finally {
    child.kill("SIGTERM");
  }
}

async function edgeTicker(throttleMs = 0): Promise<Result> {
  if (process.env.WL_URL) {
    return run("edge-ticker (external)", `${process.env.WL_URL.replace(/^http/, "ws")}/ws`, Number(process.env.WL_PID), "workerd", "stomp");
  }
  const srv = await startDevServer({
    runtime: "workerd",
    vars: {
      HUB_SHARDS: String(HUBS),
      HUB_MAX_CONNECTIONS: "32768",
      MAX_CONNECTIONS_PER_ADDRESS: "32768", // every bench client comes from 127.0.0.1
      TICK_INTERVAL_MS: String(INTERVAL_MS),
      HEARTBEAT_MS: "0",
      MAX_SUBSCRIPTIONS: "100",
    },
  });
  try {
    const label = `edge-ticker, ${HUBS} hubs${throttleMs > 0 ? `, x-throttle-ms:${throttleMs}` : ""}`;
    return await run(label, `${srv.url.replace(/^http/, "ws")}/ws`, srv.pid, "workerd", "stomp", throttleMs);
  } catch (err) {
    console.error(`server output (last lines):\n${srv.logs().split("\n").filter((l) => !l.startsWith('{"event":"fanout_tree"')).slice(-15).join("\n")}`);
    throw err;
  } finally {
    await srv.stop();
  }
}

function table(results: Result[]): void {
  const base = results.find((r) => r.label.startsWith("node"));
  const rows: Array<[string, (r: Result) => string]> = [
    ["tick rounds/s", (r) => r.roundsPerSecond.toFixed(2)],
    ["MESSAGE frames/s", (r) => r.framesPerSecond.toFixed(0)],
    ["WebSocket messages/s", (r) => r.messagesPerSecond.toFixed(0)],
    ["frames of the rounds delivered", (r) => (r.label.includes("x-throttle-ms") ? "conflated" : `${(r.delivered * 100).toFixed(2)}%`)],
    ["round→frame p50", (r) => `${r.p50} ms`],
    ["round→frame p99", (r) => `${r.p99} ms`],
    ["server CPU per frame", (r) => `${r.cpuUsPerFrame.toFixed(2)} µs${base && r !== base ? ` (${(r.cpuUsPerFrame / base.cpuUsPerFrame).toFixed(1)}× baseline)` : ""}`],
    ["RSS per connection", (r) => `${(r.rssPerConnection / 1024).toFixed(1)} KiB`],
    ["connect + subscribe", (r) => `${r.connectSeconds.toFixed(1)} s`],
  ];
  console.log(`\nwatchlist: ${CLIENTS} clients × ${PER_CLIENT} of ${UNIVERSE} symbols, a tick per symbol every ${INTERVAL_MS} ms, ${SECONDS} s`);
  console.log(`| | ${results.map((r) => r.label).join(" | ")} |`);
  console.log(`|---|${results.map(() => "---").join("|")}|`);
  for (const [name, cell] of rows) console.log(`| ${name} | ${results.map(cell).join(" | ")} |`);
  console.log("CPU: utime+stime of the server process from /proc over the window; RSS: growth over the idle server, per client.");
}

async function main(): Promise<void> {
  const results = [await edgeTicker()];
  if (THROTTLE_MS > 0) results.push(await edgeTicker(THROTTLE_MS));
  if (BASELINE) results.push(await baseline());
  table(results);
}

runMain(main);
