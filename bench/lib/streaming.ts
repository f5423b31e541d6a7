import { existsSync } from "node:fs";
import type WebSocket from "ws";
import { GOOD_KEY } from "../../test/support/fake-providers";
import { sleep } from "../../test/support/stomp";
import { entryOf } from "../../worker/multimap";
import { envNumber } from "./cli";
import { type Exchange, startExchange } from "./exchange";
import { percentile, usage } from "./proc";
import { openClients, spreadWatchlist, Tally } from "./stomp-clients";
import { edgeTicker, type Target, trivialBroadcaster } from "./targets";

/**
 * The streaming workload: a fake exchange (bench/lib/exchange.ts, Finnhub's protocol) trades
 * 100 symbols at skewed rates; Edge Ticker on `npm start` streams them (FEED_TRANSPORT=auto,
 * STREAM_BATCH_MS=50) to STREAM_CLIENTS (1,000) raw STOMP clients × 20 symbols. Measured:
 * exchange trade → client latency (p50/p99), frames delivered (of the ticks some client saw),
 * server CPU per delivered frame next to the trivial broadcaster fed the same coalesced ticks,
 * and how long the price a sampled viewer sees has been outdated (0 while it is the latest
 * trade; sampled every 100 ms), streamed versus the same symbols polled at Finnhub's free
 * budget (60 requests a minute).
 */
const CLIENTS = envNumber("BENCH_STREAM_CLIENTS", 1_000, 10_000);
const SECONDS = envNumber("BENCH_SECONDS", 10, 60);
const POLL_SECONDS = envNumber("BENCH_POLL_SECONDS", 60, 600);
/** Viewers whose displayed prices are sampled for outdatedness. */
const SAMPLED = 100;
const BATCH_MS = 50;
const UNIVERSE = Array.from({ length: 100 }, (_, i) => `X${String(i).padStart(3, "0")}`);
const watchlistOf = spreadWatchlist(UNIVERSE);

/** Counts frames and latencies (Tally) and, per symbol, the ticks anyone saw; for sampled viewers, what they display. */
class StreamTally extends Tally {
  readonly seen = new Map<string, Set<number>>();
  readonly framesBySymbol = new Map<string, number>();
  counting = false;

  private window: [number, number] = [Infinity, Infinity];

  constructor(private readonly displayed?: Map<string, number>) {
    super(10_000);
  }

  override open(from: number, to: number): void {
    super.open(from, to);
    this.window = [from, to];
  }

  private inWindow(ts: number): boolean {
    return ts >= this.window[0] && ts <= this.window[1];
  }

  override take(text: string, now: number): void {
    super.take(text, now);
    const track = this.counting;
    if (!track && !this.displayed) return;
    for (const m of text.matchAll(/"symbol":"([^"]+)","price":([0-9.e+-]+).*?"ts":(\d+).*?"seq":(\d+)/g)) {
      const [, symbol, price, ts, seq] = m;
      this.displayed?.set(symbol!, Number(price));
      // The ticks of the measuring window only (as Tally counts frames).
      if (!track || !this.inWindow(Number(ts))) continue;
      entryOf(this.seen, symbol!, () => new Set()).add(Number(seq));
      this.framesBySymbol.set(symbol!, (this.framesBySymbol.get(symbol!) ?? 0) + 1);
    }
  }
}

interface Outdated {
  p50: number;
  p99: number;
  samples: number;
}

/** Every 100 ms: for each sampled viewer's symbol, how long a newer trade than the displayed one has existed. */
function sampleOutdated(exchange: Exchange, viewers: Array<Map<string, number>>, seconds: number): Promise<Outdated> {
  const samples: number[] = [];
  return new Promise((resolve) => {
    const end = Date.now() + seconds * 1000;
    const timer = setInterval(() => {
      const now = Date.now();
      for (const displayed of viewers) {
        for (const [symbol, price] of displayed) {
          const t = exchange.trades.get(symbol)!;
          const i = t.byPrice.get(price);
          if (i === undefined) continue;
          const newer = t.ts[i + 1];
          samples.push(newer !== undefined && newer <= now ? now - newer : 0);
        }
      }
      if (now >= end) {
        clearInterval(timer);
        samples.sort((a, b) => a - b);
        resolve({ p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length });
      }
    }, 100);
  });
}

type Streamed = {
  p50: number;
  p99: number;
  frames: number;
  delivered: number;
  cpuUsPerFrame: number;
  outdated: Outdated;
  ticksPerSecond: number;
};

export interface StreamingResult {
  tradesPerSecond: number;
  streamed: Streamed;
  /** The same with the server's state on tmpfs (no fsync per SQLite commit). */
  streamedTmpfs?: Streamed;
  trivial?: { cpuUsPerFrame: number; frames: number; p50: number; p99: number };
  polled?: { outdated: Outdated };
}

/** Seeds every symbol with the exchange's latest trade (no first-quote waits on the request budget). */
async function seed(target: Target, exchange: Exchange): Promise<void> {
  await target.publish(UNIVERSE.map((symbol) => ({ symbol, ...exchange.latest(symbol) })));
}

function edgeVars(exchange: Exchange, transport: "auto" | "poll"): Record<string, string> {
  return {
    FEED_PROVIDER: "finnhub",
    FEED_BASE_URL: exchange.restUrl,
    FEED_STREAM_URL: exchange.streamUrl,
    FEED_API_KEY: GOOD_KEY,
    FEED_TRANSPORT: transport,
    // Every symbol on one connection (a paid plan's limit; the free plan's is 50).
    FEED_STREAM_SYMBOLS: "100",
    STREAM_BATCH_MS: String(BATCH_MS),
    TICK_INTERVAL_MS: "1000",
    PUBLISH_HOLD_MS: "0",
    HUB_SHARDS: "8",
  };
}

/**
 * Waits until the upstream stream has subscribed every symbol (/healthz). (Finnhub confirms
 * nothing: a symbol counts as streamed once it trades, which a 0.1 trades/s one may not do
 * for a while.)
 */
async function streamingAll(target: Target): Promise<void> {
  const base = target.wsUrl.replace(/^ws/, "http").replace(/\/ws$/, "");
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(250)) {
    const body = (await (await fetch(`${base}/healthz`)).json()) as { streams?: Array<{ subscribed: number }> };
    if ((body.streams ?? []).reduce((n, s) => n + s.subscribed, 0) >= UNIVERSE.length) return;
  }
  throw new Error("the stream never subscribed every symbol");
}

async function streamedRun(exchange: Exchange, label: string, stateIn?: string): Promise<Streamed> {
  const target = await edgeTicker(label, edgeVars(exchange, "auto"), stateIn);
  const tally = new StreamTally();
  const viewers = Array.from({ length: SAMPLED }, () => new Map<string, number>());
  let clients: WebSocket[] = [];
  try {
    await seed(target, exchange);
    clients = await openClients(target.wsUrl, CLIENTS - SAMPLED, (i) => watchlistOf(i + SAMPLED), tally);
    for (let i = 0; i < SAMPLED; i++)
      clients.push(...(await openClients(target.wsUrl, 1, () => watchlistOf(i), new SharedTally(tally, viewers[i]!))));
    console.log(`${label}: ${CLIENTS} clients × 20 of ${UNIVERSE.length} symbols`);
    await streamingAll(target);
    // Each displayed price from a moment the stream was live (as a first viewer's first quote is): not the seed, taken seconds before every client was connected.
    await seed(target, exchange);
    await sleep(3_000);
    const from = Date.now();
    tally.open(from, from + SECONDS * 1000);
    tally.counting = true;
    const before = usage(target.pgid, target.proc);
    const outdated = sampleOutdated(exchange, viewers, SECONDS);
    await sleep(SECONDS * 1000);
    const after = usage(target.pgid, target.proc);
    await sleep(2_000); // stragglers of the window
    tally.counting = false;
    tally.close();
    // Every tick some viewer of the symbol saw, to every viewer of it.
    const viewersOf = new Map<string, number>();
    for (let i = 0; i < CLIENTS; i++) for (const s of watchlistOf(i)) viewersOf.set(s, (viewersOf.get(s) ?? 0) + 1);
    let expected = 0;
    let ticks = 0;
    for (const [symbol, seqs] of tally.seen) {
      expected += seqs.size * viewersOf.get(symbol)!;
      ticks += seqs.size;
    }
    const sorted = [...tally.latencies].sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      frames: tally.frames,
      delivered: tally.frames / Math.max(1, expected),
      cpuUsPerFrame: (after.cpuUs - before.cpuUs) / Math.max(1, tally.frames),
      outdated: await outdated,
      ticksPerSecond: ticks / SECONDS,
    };
  } finally {
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

/** A sampled viewer: counts into the shared tally, and keeps what it displays. */
class SharedTally extends Tally {
  constructor(
    private readonly shared: StreamTally,
    private readonly displayed: Map<string, number>,
  ) {
    super();
  }
  override take(text: string, now: number): void {
    this.shared.take(text, now);
    for (const m of text.matchAll(/"symbol":"([^"]+)","price":([0-9.e+-]+)/g)) this.displayed.set(m[1]!, Number(m[2]));
  }
}

/** The trivial broadcaster fed the same coalesced ticks (each symbol's last trade per 50 ms window), to the same clients. */
async function trivialRun(exchange: Exchange): Promise<StreamingResult["trivial"]> {
  const target = await trivialBroadcaster(false)();
  const tally = new Tally(10_000);
  let clients: WebSocket[] = [];
  const cursor = new Map(UNIVERSE.map((s) => [s, exchange.trades.get(s)!.ts.length]));
  const timer = setInterval(() => {
    const ticks = [];
    for (const s of UNIVERSE) {
      const t = exchange.trades.get(s)!;
      if (t.ts.length > cursor.get(s)!) ticks.push({ symbol: s, price: t.price.at(-1)!, ts: t.ts.at(-1)! });
      cursor.set(s, t.ts.length);
    }
    if (ticks.length > 0) void target.publish(ticks).catch(() => undefined);
  }, BATCH_MS);
  try {
    clients = await openClients(target.wsUrl, CLIENTS, watchlistOf, tally);
    await sleep(3_000);
    const from = Date.now();
    tally.open(from, from + SECONDS * 1000);
    const before = usage(target.pgid, target.proc);
    await sleep(SECONDS * 1000);
    const after = usage(target.pgid, target.proc);
    await sleep(2_000);
    tally.close();
    const sorted = [...tally.latencies].sort((a, b) => a - b);
    return {
      cpuUsPerFrame: (after.cpuUs - before.cpuUs) / Math.max(1, tally.frames),
      frames: tally.frames,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    };
  } finally {
    clearInterval(timer);
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

/** The same symbols polled at Finnhub's free budget: only the displayed prices' age is measured (fewer clients). */
async function polledRun(exchange: Exchange): Promise<StreamingResult["polled"]> {
  const target = await edgeTicker("edge-ticker polled", edgeVars(exchange, "poll"));
  const viewers = Array.from({ length: SAMPLED }, () => new Map<string, number>());
  const clients: WebSocket[] = [];
  try {
    await seed(target, exchange);
    for (let i = 0; i < SAMPLED; i++)
      clients.push(
        ...(await openClients(target.wsUrl, 1, () => watchlistOf(i), new SharedTally(new StreamTally(), viewers[i]!))),
      );
    console.log(`polled: ${SAMPLED} clients × 20, ${POLL_SECONDS} s`);
    await seed(target, exchange); // as the streamed runs: displayed prices current when measuring starts
    return { outdated: await sampleOutdated(exchange, viewers, POLL_SECONDS) };
  } finally {
    for (const ws of clients) ws.terminate();
    await target.stop();
  }
}

export async function streamingWorkload(options: { trivial: boolean; polled: boolean }): Promise<StreamingResult> {
  const exchange = await startExchange(UNIVERSE, GOOD_KEY);
  try {
    const streamed = await streamedRun(exchange, "streamed");
    const streamedTmpfs = existsSync("/dev/shm")
      ? await streamedRun(exchange, "streamed, state on tmpfs", "/dev/shm")
      : undefined;
    const trivial = options.trivial ? await trivialRun(exchange) : undefined;
    const polled = options.polled && POLL_SECONDS > 0 ? await polledRun(exchange) : undefined;
    return { tradesPerSecond: exchange.tradesPerSecond, streamed, streamedTmpfs, trivial, polled };
  } finally {
    await exchange.close();
  }
}

export function printStreaming(r: StreamingResult): void {
  const runs: Array<[string, Streamed | undefined]> = [
    ["edge-ticker", r.streamed],
    ["edge-ticker, state on tmpfs", r.streamedTmpfs],
  ];
  const cols = runs.filter((x): x is [string, Streamed] => x[1] !== undefined);
  const ratio = (s: Streamed) => (r.trivial ? ` (${(s.cpuUsPerFrame / r.trivial.cpuUsPerFrame).toFixed(2)}×)` : "");
  const row = (name: string, goal: string, cell: (s: Streamed) => string, trivial = "") =>
    console.log(`| ${name} | ${goal} | ${cols.map(([, s]) => cell(s)).join(" | ")} | ${trivial} |`);
  console.log(
    `\nstreaming: fake exchange, ${UNIVERSE.length} symbols, ${r.tradesPerSecond.toFixed(0)} trades/s (4 at 50–200/s, the rest 0.1–2/s); ${CLIENTS} clients × 20; STREAM_BATCH_MS=${BATCH_MS}; ${SECONDS} s\n`,
  );
  console.log(`| | goal | ${cols.map(([l]) => l).join(" | ")} | trivial DO broadcaster |`);
  console.log(`|---|---|${cols.map(() => "---|").join("")}---|`);
  row("coalesced ticks/s (all symbols)", "", (s) => s.ticksPerSecond.toFixed(0));
  row(
    "frames delivered",
    "every tick",
    (s) => `${s.frames} (${(s.delivered * 100).toFixed(1)}%)`,
    String(r.trivial?.frames ?? "–"),
  );
  row(
    "exchange trade → client: p50 / p99",
    `p99 ≤ ${BATCH_MS + 100} ms`,
    (s) => `${s.p50} ms / ${s.p99} ms`,
    r.trivial ? `${r.trivial.p50} ms / ${r.trivial.p99} ms (publishes each ${BATCH_MS} ms window)` : "",
  );
  row(
    "server CPU per delivered frame",
    "≤ 1.5× trivial",
    (s) => `${s.cpuUsPerFrame.toFixed(1)} µs${ratio(s)}`,
    r.trivial ? `${r.trivial.cpuUsPerFrame.toFixed(1)} µs` : "–",
  );
  row(
    "displayed price outdated, streamed: p50 / p99",
    "≤ 0.5 s / ≤ 2 s",
    (s) => `${(s.outdated.p50 / 1000).toFixed(2)} s / ${(s.outdated.p99 / 1000).toFixed(2)} s`,
  );
  if (r.polled) {
    const p = r.polled.outdated;
    console.log(
      `| displayed price outdated, polled at 60 req/min (${SAMPLED} viewers, ${POLL_SECONDS} s): p50 / p99 | (10 s / a minute) | ${(p.p50 / 1000).toFixed(2)} s / ${(p.p99 / 1000).toFixed(2)} s |${cols.length > 1 ? " |" : ""} |`,
    );
  }
}
