/**
 * `npm run bench`: Edge Ticker on `npm start` (bare workerd) against the runtime's floor,
 * a trivial Durable Object broadcaster on bare workerd (fixtures/trivial-broadcaster.*),
 * and a plain Node `ws` server, all in one invocation, all driven by the same raw STOMP
 * client (lib/stomp-clients.ts). Per server:
 *  - calm: BENCH_SUBSCRIBERS (1,000) subscribers of one symbol, 10 ticks/s for BENCH_SECONDS;
 *  - hot: the same at 100 ticks/s (delivered within 1 s, p99);
 *  - idle: no ticks: resident memory per connection once the objects could hibernate, at
 *    BENCH_SUBSCRIBERS and at BENCH_MANY (10,000) connections, then the server's CPU over
 *    IDLE_CPU_WINDOW_MS (/proc counts CPU in 10 ms ticks: a short window cannot tell 0 from one tick);
 *  - watchlist: BENCH_WL_CLIENTS (1,000) clients × 20 of 100 symbols, one tick per symbol
 *    per second (Edge Ticker from its own simulator; the others from the bench). Edge Ticker
 *    runs it twice: its state on disk (as `npm start` keeps it) and on tmpfs (/dev/shm),
 *    which takes the disk's fsync per SQLite commit out of the figure;
 *  - stream: a fake exchange streams 100 symbols at skewed rates to Edge Ticker (FEED_TRANSPORT
 *    auto), 1,000 clients × 20: latency from the exchange's trade, frames, CPU per frame next to
 *    the trivial broadcaster fed the same coalesced ticks, and how outdated a viewer's price is,
 *    streamed versus polled at Finnhub's free budget (bench/lib/streaming.ts).
 * Server CPU is utime+stime from /proc of the server's processes, per delivered MESSAGE.
 * Prints one table, with each figure's goal and Edge Ticker's ratio to the trivial broadcaster.
 *
 *   npm run bench
 *   BENCH_SECONDS=5 BENCH_MANY=0 BENCH_ONLY=edge,trivial npm run bench      # quicker (servers: edge, edge-off, trivial, deflate, node)
 *   BENCH_THROTTLE_MS=1000 npm run bench   # also a watchlist run with x-throttle-ms (conflation)
 *   BENCH_ONLY=edge-off,edge BENCH_REPEAT=3 BENCH_IDLE=0 npm run bench   # what metrics cost, three pairs
 *
 * Traffic goes to 127.0.0.1 only; counts and duration are bounded; it stops by itself.
 */
import { existsSync } from "node:fs";
import type WebSocket from "ws";
import { sleep } from "../test/support/stomp";
import { envNumber, runMain } from "./lib/cli";
import { publishPaced } from "./lib/paced";
import { percentile, usage } from "./lib/proc";
import { openClients, Tally, WATCHLIST_SIZE, WATCHLIST_UNIVERSE, watchlist } from "./lib/stomp-clients";
import { printStreaming, streamingWorkload } from "./lib/streaming";
import { type BenchTick, edgeTicker, nodeBaseline, type Target, trivialBroadcaster } from "./lib/targets";

const SUBSCRIBERS = envNumber("BENCH_SUBSCRIBERS", 1_000, 5_000);
// workerd 2026-11 holds two file descriptors per hibernatable WebSocket (2026-04: one), so one
// process stops accepting near `ulimit -n` / 2: 9,990 at this machine's limit of 20,000.
const MANY = envNumber("BENCH_MANY", 9_000, 20_000);
const SECONDS = envNumber("BENCH_SECONDS", 10, 60);
const WL_CLIENTS = envNumber("BENCH_WL_CLIENTS", 1_000, 10_000);
const THROTTLE_MS = envNumber("BENCH_THROTTLE_MS", 0, 60_000);
/**
 * Which servers: edge, edge-off (Edge Ticker with METRICS=false: what counting costs), trivial,
 * deflate (the trivial broadcaster with compression negotiated), node; and `stream`, the
 * streaming workload.
 */
const ONLY = (process.env.BENCH_ONLY ?? "edge,edge-off,trivial,deflate,node,stream").split(",");
/** Long enough without a message for the runtime to hibernate the objects (~10 s), plus margin. */
const HIBERNATE_WAIT_MS = 15_000;
const IDLE_CPU_WINDOW_MS = 30_000;
/** tmpfs for the watchlist run without disk flushes (none: that run is skipped). */
const TMPFS = existsSync("/dev/shm") ? "/dev/shm" : undefined;
const SYMBOL = "HOT";
/** 0 skips the idle runs (memory and idle CPU: a minute per server) when only CPU per MESSAGE matters. */
const IDLE = envNumber("BENCH_IDLE", 1, 1);
/** Runs BENCH_ONLY's list this many times (the metrics cost then takes the median of its on/off pairs). */
const REPEAT = envNumber("BENCH_REPEAT", 1, 10);

interface Burst {
  delivered: number;
  onTime: number;
  p50: number;
  p99: number;
  cpuUsPerMessage: number;
  wsMessagesPerSecond: number;
  /** The bench process's own CPU over the run, in cores: near 1 means the clients, not the server, set the pace. */
  clientCores: number;
}

interface Row {
  /** BENCH_ONLY's name for the server. */
  key: string;
  /** The server's own label (set once it ran). */
  label: string;
  calm?: Burst;
  hot?: Burst;
  idleCpuMsPerSecond?: number;
  kibPerIdleConnection?: number;
  kibPerIdleConnectionMany?: number;
  watchlist?: Burst;
  /** The watchlist with the server's state on tmpfs. */
  watchlistTmpfs?: Burst;
  throttled?: Burst;
}

/** Publishes `rate` ticks/s of SYMBOL for SECONDS and waits for them to arrive (up to 5 s more). */
async function burst(target: Target, tally: Tally, rate: number, subscribers: number): Promise<Burst> {
  const start = Date.now();
  tally.open(start, start + SECONDS * 1000 + 1000);
  const before = usage(target.pgid, target.proc);
  const clientBefore = process.cpuUsage();
  const published = await publishPaced(rate, SECONDS, 0.1, (price) =>
    target.publish([{ symbol: SYMBOL, price, ts: Date.now() }]),
  );
  const expected = published.sent * subscribers;
  for (const deadline = Date.now() + 5_000; tally.frames < expected && Date.now() < deadline; ) await sleep(50);
  const after = usage(target.pgid, target.proc);
  const elapsed = (Date.now() - start) / 1000;
  tally.close();
  if (published.failed > 0) console.log(`${target.label}: ${published.failed} of ${published.sent} publishes failed`);
  return summarize(tally, expected, after.cpuUs - before.cpuUs, elapsed, process.cpuUsage(clientBefore));
}

function summarize(tally: Tally, expected: number, cpuUs: number, seconds: number, client: NodeJS.CpuUsage): Burst {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  return {
    delivered: tally.frames / expected,
    onTime: tally.onTime / expected,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    cpuUsPerMessage: cpuUs / Math.max(1, tally.frames),
    wsMessagesPerSecond: tally.messages / seconds,
    clientCores: (client.user + client.system) / 1e6 / seconds,
  };
}

/** Calm and hot on one server. */
async function fanout(start: () => Promise<Target>, row: Row): Promise<void> {
  const target = await start();
  row.label = target.label;
  const clients: WebSocket[] = [];
  const tally = new Tally();
  try {
    await target.publish([{ symbol: SYMBOL, price: 100, ts: Date.now() }]); // a price before the first subscriber
    clients.push(...(await openClients(target.wsUrl, SUBSCRIBERS, () => [SYMBOL], tally)));
    console.log(`${target.label}: ${SUBSCRIBERS} subscribers of ${SYMBOL}`);
    await sleep(2_000);
    row.calm = await burst(target, tally, 10, SUBSCRIBERS);
    row.hot = await burst(target, tally, 100, SUBSCRIBERS);
    console.log(`${target.label}: calm and hot done`);
  } finally {
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

/**
 * Idle on a fresh server: resident memory per subscribed connection once the objects could
 * hibernate, at SUBSCRIBERS and at MANY connections, and the server's CPU while nothing ticks.
 */
async function idle(start: () => Promise<Target>, row: Row): Promise<void> {
  const target = await start();
  const clients: WebSocket[] = [];
  const tally = new Tally();
  try {
    await target.publish([{ symbol: SYMBOL, price: 100, ts: Date.now() }]);
    await sleep(HIBERNATE_WAIT_MS);
    const empty = usage(target.pgid, target.proc).rssBytes;
    for (const [count, field] of [
      [SUBSCRIBERS, "kibPerIdleConnection"],
      [MANY, "kibPerIdleConnectionMany"],
    ] as const) {
      if (count <= clients.length) continue;
      clients.push(...(await openClients(target.wsUrl, count - clients.length, () => [SYMBOL], tally)));
      console.log(`${target.label}: ${count} idle connections; waiting ${HIBERNATE_WAIT_MS / 1000} s`);
      await sleep(HIBERNATE_WAIT_MS);
      row[field] = (usage(target.pgid, target.proc).rssBytes - empty) / 1024 / count;
    }
    const from = usage(target.pgid, target.proc).cpuUs;
    await sleep(IDLE_CPU_WINDOW_MS);
    row.idleCpuMsPerSecond = (usage(target.pgid, target.proc).cpuUs - from) / IDLE_CPU_WINDOW_MS;
  } finally {
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

/** Watchlist: one round of ticks a second, from the server's own feed (`feed`) or published by the bench. */
async function watchlistRun(start: () => Promise<Target>, feed: "own" | "bench", throttleMs = 0): Promise<Burst> {
  const target = await start();
  const tally = new Tally();
  let clients: WebSocket[] = [];
  let publishing: ReturnType<typeof setInterval> | undefined;
  try {
    const round = (): BenchTick[] => {
      const ts = Date.now();
      return WATCHLIST_UNIVERSE.map((symbol) => ({ symbol, price: 100 + Math.random(), ts }));
    };
    if (feed === "bench") publishing = setInterval(() => void target.publish(round()).catch(() => undefined), 1_000);
    const t0 = Date.now();
    clients = await openClients(target.wsUrl, WL_CLIENTS, watchlist, tally, { throttleMs });
    console.log(`${target.label}: ${WL_CLIENTS} watchlist clients in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(3_000);
    const from = Date.now();
    tally.open(from, from + SECONDS * 1000);
    const before = usage(target.pgid, target.proc);
    const clientBefore = process.cpuUsage();
    await sleep(SECONDS * 1000);
    const after = usage(target.pgid, target.proc);
    const client = process.cpuUsage(clientBefore);
    await sleep(3_000); // the last rounds' stragglers
    tally.close();
    return summarize(
      tally,
      tally.rounds.size * WL_CLIENTS * WATCHLIST_SIZE,
      after.cpuUs - before.cpuUs,
      SECONDS,
      client,
    );
  } finally {
    if (publishing) clearInterval(publishing);
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

const EDGE_VARS = { TICK_INTERVAL_MS: "3600000", PUBLISH_HOLD_MS: "3600000" };
const edge = () => edgeTicker("edge-ticker", EDGE_VARS);
const WATCHLIST_VARS = { TICK_INTERVAL_MS: "1000", HUB_SHARDS: "8" };
const edgeWatchlist = () => edgeTicker("edge-ticker", WATCHLIST_VARS);
/** The same with metrics off: the difference is what counting costs per delivered frame. */
const OFF = { METRICS: "false" };
const edgeOff = () => edgeTicker("edge-ticker, METRICS=false", { ...EDGE_VARS, ...OFF });
const edgeOffWatchlist = () => edgeTicker("edge-ticker, METRICS=false", { ...WATCHLIST_VARS, ...OFF });

const us = (n: number | undefined) => (n === undefined ? "–" : `${n.toFixed(1)} µs`);
const ms = (n: number | undefined) => (n === undefined ? "–" : `${n} ms`);
const pct = (n: number | undefined) => (n === undefined ? "–" : `${(n * 100).toFixed(1)}%`);
const kib = (n: number | undefined) => (n === undefined ? "–" : `${n.toFixed(1)} KiB`);

function table(rows: Row[]): void {
  const floor = rows.find((r) => r.key === "trivial");
  const ratio = (row: Row, pick: (r: Row) => number | undefined) => {
    const a = pick(row);
    const b = floor && pick(floor);
    return row === floor || a === undefined || !b ? "" : ` (${(a / b).toFixed(2)}×)`;
  };
  const lines: Array<[string, string, (r: Row) => string]> = [
    ["calm 10/s: p50 / p99", "p99 ≤ 30 ms", (r) => `${ms(r.calm?.p50)} / ${ms(r.calm?.p99)}`],
    [
      "calm: CPU per MESSAGE",
      "≤ 1.2× trivial",
      (r) => us(r.calm?.cpuUsPerMessage) + ratio(r, (x) => x.calm?.cpuUsPerMessage),
    ],
    ["hot 100/s: delivered within 1 s", "≥ 99%", (r) => pct(r.hot?.onTime)],
    ["hot: p50 / p99", "p99 ≤ 250 ms", (r) => `${ms(r.hot?.p50)} / ${ms(r.hot?.p99)}`],
    [
      "hot: CPU per MESSAGE",
      "≤ 1.2× trivial",
      (r) => us(r.hot?.cpuUsPerMessage) + ratio(r, (x) => x.hot?.cpuUsPerMessage),
    ],
    ["hot: WebSocket messages/s", "", (r) => (r.hot ? r.hot.wsMessagesPerSecond.toFixed(0) : "–")],
    ["hot: bench clients' CPU (cores)", "", (r) => (r.hot ? r.hot.clientCores.toFixed(2) : "–")],
    [`watchlist ${WL_CLIENTS}×20/100: delivered`, "100%", (r) => pct(r.watchlist?.delivered)],
    ["watchlist: p50 / p99", "p99 ≤ 100 ms", (r) => `${ms(r.watchlist?.p50)} / ${ms(r.watchlist?.p99)}`],
    [
      "watchlist: CPU per MESSAGE",
      "≤ 10 µs",
      (r) => us(r.watchlist?.cpuUsPerMessage) + ratio(r, (x) => x.watchlist?.cpuUsPerMessage),
    ],
    [
      "watchlist, state on tmpfs: p50 / p99",
      "p99 ≤ 100 ms",
      (r) => (r.watchlistTmpfs ? `${ms(r.watchlistTmpfs.p50)} / ${ms(r.watchlistTmpfs.p99)}` : "–"),
    ],
    [`RSS per idle connection, ${SUBSCRIBERS}`, "≤ 30 KiB", (r) => kib(r.kibPerIdleConnection)],
    [`RSS per idle connection, ${MANY}`, "≤ 30 KiB", (r) => kib(r.kibPerIdleConnectionMany)],
    [
      `idle (no ticks), ${Math.max(SUBSCRIBERS, MANY)} connected: server CPU over ${IDLE_CPU_WINDOW_MS / 1000} s`,
      "~0",
      (r) => (r.idleCpuMsPerSecond === undefined ? "–" : `${r.idleCpuMsPerSecond.toFixed(2)} ms/s`),
    ],
  ];
  const ons = rows.filter((r) => r.key === "edge");
  const offs = rows.filter((r) => r.key === "edge-off");
  const pairs = ons.slice(0, offs.length).map((on, i) => [on, offs[i]!] as const);
  if (pairs.length > 0) {
    // What metrics cost: Edge Ticker's CPU per delivered MESSAGE with them on, over the same with
    // METRICS=false, per pair of runs; with several pairs (BENCH_REPEAT), their median too.
    const cost = (pick: (r: Row) => Burst | undefined) => {
      const ratios = pairs.flatMap(([on, off]) => {
        const a = pick(on)?.cpuUsPerMessage;
        const b = pick(off)?.cpuUsPerMessage;
        return a === undefined || !b ? [] : [a / b];
      });
      if (ratios.length === 0) return "–";
      const sorted = [...ratios].sort((x, y) => x - y);
      const median =
        sorted.length % 2
          ? sorted[(sorted.length - 1) / 2]!
          : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
      return ratios.length === 1
        ? `${median.toFixed(3)}×`
        : `${ratios.map((x) => x.toFixed(3)).join(", ")} (median ${median.toFixed(3)}×)`;
    };
    const first = pairs[0]![0];
    const cell = (r: Row) =>
      r === first
        ? `calm ${cost((x) => x.calm)}; hot ${cost((x) => x.hot)}; watchlist ${cost((x) => x.watchlist)}`
        : "";
    lines.push(["metrics on ÷ off: CPU per MESSAGE", "≤ 1.05×", cell]);
  }
  if (rows.some((r) => r.throttled)) {
    lines.push([
      "watchlist x-throttle-ms: WS messages/s",
      "",
      (r) => (r.throttled ? r.throttled.wsMessagesPerSecond.toFixed(0) : "–"),
    ]);
  }
  console.log(
    `\n${SUBSCRIBERS} subscribers of one symbol for ${SECONDS} s per rate; server CPU from /proc (utime+stime), per delivered MESSAGE\n`,
  );
  console.log(`| | goal | ${rows.map((r) => r.label).join(" | ")} |`);
  console.log(`|---|---|${rows.map(() => "---").join("|")}|`);
  for (const [name, goal, cell] of lines) console.log(`| ${name} | ${goal} | ${rows.map(cell).join(" | ")} |`);
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const runs: Array<[string, () => Promise<Target>, () => Promise<Target>, "own" | "bench"]> = [
    ["edge", edge, edgeWatchlist, "own"],
    ["edge-off", edgeOff, edgeOffWatchlist, "own"],
    ["trivial", trivialBroadcaster(false), trivialBroadcaster(false), "bench"],
    ["deflate", trivialBroadcaster(true), trivialBroadcaster(true), "bench"],
    ["node", nodeBaseline, nodeBaseline, "bench"],
  ];
  // In BENCH_ONLY's order: `edge-off,edge` runs the pair the other way round (load on a shared machine drifts).
  const order = Array.from({ length: REPEAT }, () => ONLY).flat();
  for (const [key, startFanout, startWatchlist, feed] of order.flatMap((k) => runs.filter(([key]) => key === k))) {
    const row: Row = { key, label: key };
    await fanout(startFanout, row);
    if (IDLE) await idle(startFanout, row);
    if (WL_CLIENTS > 0) row.watchlist = await watchlistRun(startWatchlist, feed);
    if (WL_CLIENTS > 0 && key === "edge" && TMPFS)
      row.watchlistTmpfs = await watchlistRun(() => edgeTicker("edge-ticker", WATCHLIST_VARS, TMPFS), feed);
    if (THROTTLE_MS > 0 && key === "edge") row.throttled = await watchlistRun(startWatchlist, feed, THROTTLE_MS);
    rows.push(row);
  }
  if (rows.length > 0) table(rows);
  if (ONLY.includes("stream")) printStreaming(await streamingWorkload({ trivial: true, polled: true }));
}

runMain(main);
