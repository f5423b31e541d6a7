/**
 * `npm run bench:wire`: what a tick costs on the wire and on the server, in each wire form
 * (plain MESSAGEs, `x-format:compact`, `/topic/tickers` batches), on `npm start` (bare
 * workerd) with the simulator: 100 crypto symbols (they trade around the clock, so any hour
 * is a trading-day-like minute: price, day volume, bid and ask move every tick), one round a
 * second.
 *  - viewer: one client per form watching the same 20 symbols, side by side on one server, for
 *    BENCH_VIEWER_SECONDS (60: a minute): bytes per tick (STOMP text, and with the WebSocket
 *    framing) and per viewer-hour.
 *  - load: BENCH_WL_CLIENTS (1,000) clients × 20 of the 100 symbols, one fresh server per form,
 *    then the trivial Durable Object broadcaster fed the same rounds by the bench (the
 *    runtime's floor, bench/fixtures): server CPU (utime+stime from /proc) per delivered tick,
 *    delivered ticks, p50 / p99 latency from the tick's time, bytes per tick.
 *  - hub: the hub's own JavaScript per delivered tick in each form, the same load in one process
 *    without the runtime (bench/lib/wire-hub.ts), alternating forms BENCH_HUB_ROUNDS times:
 *    what the forms cost where they differ, without the machine's noise; and what a source
 *    spends rendering a tick's frame, compact fields included.
 * Prints one table with each figure's goal; CPU ratios are to plain frames in the same run.
 *
 *   npm run bench:wire                                                             # alone on the machine
 *   BENCH_VIEWER_SECONDS=20 BENCH_SECONDS=10 BENCH_WL_CLIENTS=300 npm run bench:wire   # quicker
 *   BENCH_WIRE_FORMS=plain,batched BENCH_REPEAT=3 npm run bench:wire                   # noise: alternate pairs
 *
 * Traffic goes to 127.0.0.1 only; counts and duration are bounded; it stops by itself.
 */
import type WebSocket from "ws";
import { sleep } from "../test/support/stomp";
import { envNumber, runMain } from "./lib/cli";
import { percentile, usage } from "./lib/proc";
import { spreadWatchlist } from "./lib/stomp-clients";
import { edgeTicker, type Target, trivialBroadcaster } from "./lib/targets";
import { type Form, openWireClient, openWireClients, WireTally } from "./lib/wire-clients";
import { hubCost, simulatedRounds, sourceCost } from "./lib/wire-hub";

const VIEWER_SECONDS = envNumber("BENCH_VIEWER_SECONDS", 60, 600);
const SECONDS = envNumber("BENCH_SECONDS", 15, 120);
const CLIENTS = envNumber("BENCH_WL_CLIENTS", 1_000, 5_000);
const REPEAT = envNumber("BENCH_REPEAT", 1, 5);
const HUB_ROUNDS = envNumber("BENCH_HUB_ROUNDS", 3, 20);
const FORMS = (process.env.BENCH_WIRE_FORMS ?? "plain,compact,batched,trivial").split(",");
const WATCHLIST = 20;
const UNIVERSE = Array.from({ length: 100 }, (_, i) => `X${String(i).padStart(3, "0")}-USD`);
const watchlist = spreadWatchlist(UNIVERSE, WATCHLIST);
const VARS = { TICK_INTERVAL_MS: "1000", HUB_SHARDS: "8" };

interface Figures {
  ticks: number;
  bytesPerTick: number;
  wireBytesPerTick: number;
  /** Bytes (with framing) a viewer of one 20-symbol watchlist receives in an hour. */
  mbPerViewerHour: number;
  delivered?: number;
  p50?: number;
  p99?: number;
  cpuUsPerTick?: number;
  messagesPerSecond?: number;
}

function figures(t: WireTally, seconds: number, viewers: number, expected?: number, cpuUs?: number): Figures {
  const sorted = [...t.latencies].sort((a, b) => a - b);
  return {
    ticks: t.ticks,
    bytesPerTick: t.bytes / Math.max(1, t.ticks),
    wireBytesPerTick: t.wireBytes / Math.max(1, t.ticks),
    mbPerViewerHour: ((t.wireBytes / seconds / viewers) * 3600) / 1e6,
    ...(expected === undefined ? {} : { delivered: t.ticks / expected }),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    ...(cpuUs === undefined ? {} : { cpuUsPerTick: cpuUs / Math.max(1, t.ticks) }),
    messagesPerSecond: t.messages / seconds,
  };
}

/** One viewer per form on one server, the same 20 symbols, for a minute. */
async function viewers(): Promise<Map<Form, Figures>> {
  const target = await edgeTicker("edge-ticker", VARS);
  const forms: Form[] = ["plain", "compact", "batched"];
  const tallies = new Map(forms.map((f) => [f, new WireTally()]));
  const clients: WebSocket[] = [];
  try {
    for (const f of forms) clients.push(await openWireClient(target.wsUrl, f, watchlist(0), tallies.get(f)!));
    await sleep(3_000);
    const from = Date.now();
    for (const t of tallies.values()) t.open(from, from + VIEWER_SECONDS * 1000);
    console.log(`viewer: one client per form, ${WATCHLIST} symbols, ${VIEWER_SECONDS} s`);
    await sleep(VIEWER_SECONDS * 1000 + 2_000);
    return new Map(forms.map((f) => [f, figures(tallies.get(f)!, VIEWER_SECONDS, 1)]));
  } finally {
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

/** CLIENTS watchlists in one form on a fresh server (the trivial broadcaster: plain frames of the bench's rounds). */
async function load(form: Form | "trivial"): Promise<Figures> {
  const target: Target = form === "trivial" ? await trivialBroadcaster(false)() : await edgeTicker("edge-ticker", VARS);
  const tally = new WireTally();
  let clients: WebSocket[] = [];
  let publishing: ReturnType<typeof setInterval> | undefined;
  try {
    if (form === "trivial") {
      let price = 100;
      publishing = setInterval(() => {
        const ts = Date.now();
        price += 0.01;
        void target.publish(UNIVERSE.map((symbol) => ({ symbol, price, ts }))).catch(() => undefined);
      }, 1_000);
    }
    clients = await openWireClients(target.wsUrl, form === "trivial" ? "plain" : form, CLIENTS, watchlist, tally);
    console.log(`load: ${CLIENTS} × ${WATCHLIST} of ${UNIVERSE.length}, ${form}`);
    await sleep(3_000);
    const from = Date.now();
    tally.open(from, from + SECONDS * 1000);
    const before = usage(target.pgid, target.proc);
    await sleep(SECONDS * 1000);
    const after = usage(target.pgid, target.proc);
    await sleep(3_000); // the last rounds' stragglers
    tally.close();
    return figures(tally, SECONDS, CLIENTS, tally.rounds.size * CLIENTS * WATCHLIST, after.cpuUs - before.cpuUs);
  } finally {
    if (publishing) clearInterval(publishing);
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

const f1 = (n: number | undefined, unit = "") => (n === undefined ? "–" : `${n.toFixed(1)}${unit}`);
const pct = (n: number | undefined) => (n === undefined ? "–" : `${(n * 100).toFixed(1)}%`);

function table(viewer: Map<Form, Figures>, loads: Array<[string, Figures]>): void {
  console.log(`\nviewer: one ${WATCHLIST}-symbol watchlist per form, 1 tick/s per symbol, ${VIEWER_SECONDS} s`);
  console.log("| | goal | plain | compact | batched |\n|---|---|---|---|---|");
  const row = (name: string, goal: string, pick: (f: Figures) => string) =>
    console.log(
      `| ${name} | ${goal} | ${["plain", "compact", "batched"].map((f) => pick(viewer.get(f as Form)!)).join(" | ")} |`,
    );
  row("ticks received", "", (f) => String(f.ticks));
  row("bytes per tick (STOMP)", "batched ≤ 80", (f) => f1(f.bytesPerTick));
  row("bytes per tick (with WebSocket framing)", "", (f) => f1(f.wireBytesPerTick));
  row("MB per viewer-hour", "", (f) => f1(f.mbPerViewerHour));
  row("WebSocket messages/s", "", (f) => f1(f.messagesPerSecond));

  console.log(
    `\nload: ${CLIENTS} clients × ${WATCHLIST} of ${UNIVERSE.length} symbols, ${SECONDS} s per run, CPU from /proc`,
  );
  console.log(`| | goal | ${loads.map(([n]) => n).join(" | ")} |\n|---|---|${loads.map(() => "---").join("|")}|`);
  const plainCpu = loads.filter(([n]) => n === "plain").map(([, f]) => f.cpuUsPerTick!);
  const base = plainCpu.length ? plainCpu.reduce((a, b) => a + b, 0) / plainCpu.length : undefined;
  const trivial = loads.find(([n]) => n === "trivial")?.[1].cpuUsPerTick;
  const lines: Array<[string, string, (f: Figures, name: string) => string]> = [
    ["delivered", "100%", (f) => pct(f.delivered)],
    ["p50 / p99 latency", "p99 as plain", (f) => `${f.p50} / ${f.p99} ms`],
    [
      "server CPU per delivered tick",
      "≤ 1.2× plain",
      (f, n) =>
        `${f1(f.cpuUsPerTick, " µs")}${base && n !== "plain" ? ` (${(f.cpuUsPerTick! / base).toFixed(2)}× plain)` : ""}` +
        (trivial && n !== "trivial" ? ` (${(f.cpuUsPerTick! / trivial).toFixed(2)}× trivial)` : ""),
    ],
    ["bytes per tick (STOMP)", "", (f) => f1(f.bytesPerTick)],
    ["WebSocket messages/s", "", (f) => f1(f.messagesPerSecond)],
  ];
  for (const [name, goal, cell] of lines)
    console.log(`| ${name} | ${goal} | ${loads.map(([n, f]) => cell(f, n)).join(" | ")} |`);
}

/** The hub's JavaScript per delivered tick, each form HUB_ROUNDS times, alternating; medians. */
async function hubJs(): Promise<void> {
  const rounds = simulatedRounds(UNIVERSE, 31);
  const forms: Form[] = ["plain", "compact", "batched"];
  const runs = new Map<Form, Array<{ usPerTick: number; bytesPerTick: number }>>(forms.map((f) => [f, []]));
  for (const f of forms) await hubCost(f, rounds, CLIENTS, watchlist); // warm up
  for (let r = 0; r < HUB_ROUNDS; r++)
    for (const f of forms) runs.get(f)!.push(await hubCost(f, rounds, CLIENTS, watchlist));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const us = new Map(forms.map((f) => [f, median(runs.get(f)!.map((x) => x.usPerTick))]));
  const source = sourceCost(rounds);
  console.log(
    `\nhub: its JavaScript per delivered tick, ${CLIENTS} clients × ${WATCHLIST} of ${UNIVERSE.length}, 30 rounds, no runtime (medians of ${HUB_ROUNDS})`,
  );
  console.log("| | goal | plain | compact | batched |\n|---|---|---|---|---|");
  const cell = (f: Form) => `${(us.get(f)! * 1000).toFixed(0)} ns (${(us.get(f)! / us.get("plain")!).toFixed(2)}×)`;
  console.log(`| hub CPU per delivered tick | ≤ 1.2× plain | ${forms.map(cell).join(" | ")} |`);
  console.log(`| bytes per tick | | ${forms.map((f) => runs.get(f)![0]!.bytesPerTick.toFixed(1)).join(" | ")} |`);
  console.log(
    `| per round: | | ${forms
      .map((f) =>
        runs
          .get(f)!
          .map((x) => (x.usPerTick * 1000).toFixed(0))
          .join(", "),
      )
      .join(" | ")} |`,
  );
  console.log(
    `\nsource: rendering a tick's frame ${(source.frame * 1000).toFixed(0)} ns, of which the compact fields (whole and delta) ${(source.compact * 1000).toFixed(0)} ns; once per tick for every hub and subscriber`,
  );
}

async function main(): Promise<void> {
  if (process.env.BENCH_HUB_ONLY) return hubJs();
  await hubJs();
  const viewer = await viewers();
  const loads: Array<[string, Figures]> = [];
  for (let r = 0; r < REPEAT; r++) {
    for (const form of FORMS) loads.push([form, await load(form as Form | "trivial")]);
  }
  table(viewer, loads);
}

runMain(main);
