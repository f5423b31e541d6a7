/**
 * A flood of one symbol's bars on `npm start` (bare workerd, as self-hosters run it): 16
 * clients asking `GET /api/bars/BTC-USD?limit=1` back to back for 10 s, BTC-USD holding five
 * 24/7 days of one-minute bars (7,200 rows). A read of `limit` bars reads about `limit`
 * rows, not the whole range (the mechanism: test/unit/hardening.test.ts counts the rows),
 * so each answer stays cheap, and another symbol's ticks keep their pace. The bounds here
 * are generous, for a shared 2-core machine; the figures measured are printed (and noted in
 * docs/benchmarks.md). Before the bound: 337 ms a request and AAPL's tick lag p95 346 ms.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { Collector, type Connected, connectStomp, sleep } from "../support/stomp";

const CLIENTS = 16;
const FLOOD_MS = 10_000;

let srv: DevServer;
let watcher: Connected;
beforeAll(async () => {
  srv = await startDevServer({ runtime: "workerd", vars: { SIM_UNIVERSE: "builtin" } });
  watcher = await connectStomp(srv.url);
});
afterAll(async () => {
  await watcher?.disconnect();
  await srv?.stop();
});

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/** How late AAPL's ticks arrive (receipt time less the tick's time) over `ms`. */
async function tickLag(col: Collector, ms: number): Promise<number[]> {
  const from = col.messages.length;
  const arrivals: number[] = [];
  const started = Date.now();
  while (Date.now() - started < ms) {
    await sleep(20);
    while (arrivals.length < col.messages.length - from) arrivals.push(Date.now());
  }
  return col.ticks.slice(from, from + arrivals.length).map((t, i) => arrivals[i]! - t.ts);
}

it("answers 16 parallel limit=1 readers quickly and keeps another symbol's ticks on time", async () => {
  // BTC-USD's five days of bars are drawn when it is first asked for.
  const first = await fetch(`${srv.url}/api/bars/BTC-USD?interval=1m`);
  expect(first.status).toBe(200);
  const stored = ((await first.json()) as { bars: unknown[] }).bars.length;
  expect(stored).toBeGreaterThan(5_000);
  const col = new Collector(watcher.client, "/topic/ticker.AAPL");
  await col.waitFor(2);
  const calm = await tickLag(col, 4_000);

  const latencies: number[] = [];
  let answered = 0;
  const stopAt = Date.now() + FLOOD_MS;
  const flood = Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < stopAt) {
        const t0 = performance.now();
        const res = await fetch(`${srv.url}/api/bars/BTC-USD?limit=1`);
        const body = (await res.json()) as { bars: unknown[] };
        latencies.push(performance.now() - t0);
        expect(res.status).toBe(200);
        expect(body.bars).toHaveLength(1);
        answered++;
      }
    }),
  );
  const flooded = await tickLag(col, FLOOD_MS - 500);
  await flood;

  const median = percentile(latencies, 50);
  const lagP95 = percentile(flooded, 95);
  console.log(
    `bars flood: ${answered} answers in ${FLOOD_MS / 1000} s (${(answered / (FLOOD_MS / 1000)).toFixed(0)}/s), ` +
      `median ${median.toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms; ` +
      `AAPL tick lag p95 ${percentile(calm, 95)} ms calm, ${lagP95} ms flooded (${flooded.length} ticks); ${stored} bars stored`,
  );
  expect(flooded.length).toBeGreaterThanOrEqual(5);
  // Goals: median under 20 ms, lag p95 under 50 ms (met on an idle 2-core machine); the bounds
  // leave room for a machine shared with other work, and still fail the unbounded read.
  expect(median).toBeLessThan(60);
  expect(lagP95).toBeLessThan(150);
}, 60_000);
