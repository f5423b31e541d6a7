/**
 * `npm run bench:bars`: what bars cost, on `npm start` (bare workerd) with the simulator.
 *  - streams: BENCH_WL_CLIENTS (1,000) clients × 20 of 100 crypto symbols (24/7: bars form
 *    whatever the day) ticking every TICK_MS (250 ms: four ticks a second, so conflation
 *    shows), subscribed to `/topic/bars.{S}.1m`; the same workload on `/topic/ticker.{S}`
 *    in the same run is the baseline. Frames per subscription per second (goal for bars:
 *    ≤ 1) and server CPU (utime+stime from /proc) per delivered frame and per second.
 *  - /api/bars: five days of one-minute bars of a new symbol (its history backfilled on the
 *    first request), then the same open range again, then a closed range the first time
 *    (from the source) and again (from the runtime's cache): the time each takes.
 *
 *   flock /work/coord/heavy.lock npm run bench:bars
 *   BENCH_SECONDS=5 BENCH_WL_CLIENTS=200 npm run bench:bars    # quicker
 *
 * Traffic goes to 127.0.0.1 only; counts and duration are bounded; it stops by itself.
 */
import type WebSocket from "ws";
import { sleep } from "../test/support/stomp";
import { envNumber, runMain } from "./lib/cli";
import { percentile, usage } from "./lib/proc";
import { openClients, spreadWatchlist, Tally, WATCHLIST_SIZE } from "./lib/stomp-clients";
import { edgeTicker, type Target } from "./lib/targets";

const SECONDS = envNumber("BENCH_SECONDS", 15, 120);
const CLIENTS = envNumber("BENCH_WL_CLIENTS", 1_000, 5_000);
const TICK_MS = envNumber("BENCH_TICK_MS", 250, 1_000);
const REPEATS = 20;
/** 100 crypto symbols the simulator prices (SIM_UNIVERSE=any): bars form around the clock. */
const UNIVERSE = Array.from({ length: 100 }, (_, i) => `B${String(i).padStart(3, "0")}-USD`);
const watchlist = spreadWatchlist(UNIVERSE);

interface StreamRun {
  framesPerSubPerSecond: number;
  /** The most frames any one subscription got in one wall-clock second. */
  maxFramesPerSubInASecond: number;
  cpuMsPerSecond: number;
  cpuUsPerFrame: number;
}

async function streamRun(destination: (s: string) => string): Promise<StreamRun> {
  const target: Target = await edgeTicker("edge-ticker", { TICK_INTERVAL_MS: String(TICK_MS), HUB_SHARDS: "8" });
  let clients: WebSocket[] = [];
  let counting = false;
  let frames = 0;
  // Per subscription (client index × destination) and second: the frames it got.
  const perSecond = new Map<string, number>();
  try {
    // Every symbol's first price and history before the clients come (a new symbol draws five days of bars).
    const base = target.wsUrl.replace(/^ws/, "http").replace(/\/ws$/, "");
    for (let i = 0; i < UNIVERSE.length; i += 10) {
      await Promise.all(
        UNIVERSE.slice(i, i + 10).map(async (s) => (await fetch(`${base}/api/bars/${s}?limit=1`)).arrayBuffer()),
      );
    }
    clients = await openClients(target.wsUrl, CLIENTS, watchlist, new Tally(), {
      destination,
      onMessage: (text) => {
        if (!counting) return;
        const second = Math.floor(Date.now() / 1000);
        for (const m of text.matchAll(/MESSAGE\nsubscription:(\d+)\ndestination:([^\n]+)/g)) {
          frames++;
          const key = `${m[2]}#${second}`;
          perSecond.set(key, (perSecond.get(key) ?? 0) + 1);
        }
      },
    });
    // Snapshots and the first rounds out of the way.
    await sleep(8_000);
    const before = usage(target.pgid, target.proc);
    counting = true;
    await sleep(SECONDS * 1000);
    counting = false;
    const after = usage(target.pgid, target.proc);
    const cpuUs = after.cpuUs - before.cpuUs;
    // Each key above is per destination, not per client: divide by the clients holding it.
    const holders = new Map<string, number>();
    for (let i = 0; i < CLIENTS; i++)
      for (const s of watchlist(i)) holders.set(destination(s), (holders.get(destination(s)) ?? 0) + 1);
    let max = 0;
    for (const [key, count] of perSecond) max = Math.max(max, count / holders.get(key.slice(0, key.lastIndexOf("#")))!);
    return {
      framesPerSubPerSecond: frames / (CLIENTS * WATCHLIST_SIZE) / SECONDS,
      maxFramesPerSubInASecond: max,
      cpuMsPerSecond: cpuUs / 1000 / SECONDS,
      cpuUsPerFrame: cpuUs / Math.max(1, frames),
    };
  } finally {
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

interface Timed {
  ms: number;
  bytes: number;
  cache: string;
  bars: number;
}

async function timedFetch(url: string): Promise<Timed> {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${body.slice(0, 200)}`);
  return {
    ms,
    bytes: body.length,
    cache: res.headers.get("x-cache") ?? "",
    bars: (JSON.parse(body) as { bars: unknown[] }).bars.length,
  };
}

async function apiRun(): Promise<
  Record<string, { ms: number; p50?: number; bytes: number; bars: number; cache: string }>
> {
  const target = await edgeTicker("edge-ticker", { TICK_INTERVAL_MS: "1000" });
  const base = target.wsUrl.replace(/^ws/, "http").replace(/\/ws$/, "");
  try {
    const out: Record<string, { ms: number; p50?: number; bytes: number; bars: number; cache: string }> = {};
    const repeat = async (url: string) => {
      const runs: Timed[] = [];
      for (let i = 0; i < REPEATS; i++) runs.push(await timedFetch(url));
      const sorted = runs.map((r) => r.ms).sort((a, b) => a - b);
      return {
        ms: sorted[0]!,
        p50: percentile(sorted, 50),
        bytes: runs[0]!.bytes,
        bars: runs[0]!.bars,
        cache: runs.at(-1)!.cache,
      };
    };
    // A new symbol: the first request draws and stores its five days.
    out["first request of a new symbol (backfill included)"] = await timedFetch(
      `${base}/api/bars/BENCH-USD?interval=1m`,
    );
    out["open range again (from the source, no-store)"] = await repeat(`${base}/api/bars/BENCH-USD?interval=1m`);
    // Final: ended past the 15-minute correction window (a range a late trade may still correct is not cached).
    const to = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;
    const closed = `${base}/api/bars/BENCH-USD?interval=1m&from=0&to=${to}`;
    out["closed range, first (from the source, then cached)"] = await timedFetch(closed);
    out["closed range, again (from the cache)"] = await repeat(closed);
    out["5-minute bars, five days (derived on read)"] = await repeat(`${base}/api/bars/BENCH-USD?interval=5m`);
    return out;
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const api = await apiRun();
  const ticks = await streamRun((s) => `/topic/ticker.${s}`);
  const bars = await streamRun((s) => `/topic/bars.${s}.1m`);
  console.log(
    `\n${CLIENTS} clients × ${WATCHLIST_SIZE} of 100 crypto symbols, ticks every ${TICK_MS} ms, ${SECONDS} s; server CPU from /proc\n`,
  );
  console.log("| | goal | /topic/ticker (baseline) | /topic/bars.1m |");
  console.log("|---|---|---|---|");
  const row = (name: string, goal: string, pick: (r: StreamRun) => string) =>
    console.log(`| ${name} | ${goal} | ${pick(ticks)} | ${pick(bars)} |`);
  row("frames per subscription per second", "bars ≤ 1", (r) => r.framesPerSubPerSecond.toFixed(3));
  row("most frames one subscription got in a second", "bars ≤ 1 (+1 at a minute's end)", (r) =>
    r.maxFramesPerSubInASecond.toFixed(0),
  );
  row("server CPU", "", (r) => `${r.cpuMsPerSecond.toFixed(0)} ms/s`);
  row("server CPU per delivered frame", "", (r) => `${r.cpuUsPerFrame.toFixed(1)} µs`);
  console.log("\n| /api/bars/BENCH-USD | bars | bytes | x-cache | time (best / p50 of 20) |");
  console.log("|---|---|---|---|---|");
  for (const [name, r] of Object.entries(api)) {
    console.log(
      `| ${name} | ${r.bars} | ${r.bytes} | ${r.cache} | ${r.ms.toFixed(1)} ms${r.p50 === undefined ? "" : ` / ${r.p50.toFixed(1)} ms`} |`,
    );
  }
}

runMain(main);
