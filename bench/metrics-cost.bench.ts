/**
 * `npm run bench:metrics`: what counting adds to the hub's own JavaScript per delivered
 * MESSAGE, without the runtime: the real HubBroker, subscription index, STOMP sessions and
 * Connections (carriers that drop the writes), 1,000 subscribers of one stream, ticks
 * delivered and flushed, with metrics (HubMetrics: frames, bytes, writes, the lag
 * histogram) and without, alternating. `npm run bench` measures the whole server (runtime
 * sends included), where this difference drowns in the machine's noise; here it is alone.
 *
 *   BENCH_METRICS_ROUNDS=6 npm run bench:metrics
 */

import { authenticateSecret, SESSION_LIMITS } from "../test/support/session-limits";
import { HubBroker } from "../worker/broker/hub-broker";
import type { Sources } from "../worker/broker/hub-ports";
import { newSessionState, type Subscription } from "../worker/broker/session-state";
import { StompSession } from "../worker/broker/stomp-session";
import { buildTickFrame } from "../worker/broker/stream-frame";
import { Connection } from "../worker/connections/connection";
import { WriteBatcher } from "../worker/connections/write-batcher";
import { HubMetrics } from "../worker/metrics/hub-metrics";
import { envNumber, runMain } from "./lib/cli";

const SUBSCRIBERS = 1_000;
const TICKS = envNumber("BENCH_METRICS_TICKS", 2_000, 100_000);
const ROUNDS = envNumber("BENCH_METRICS_ROUNDS", 6, 50);

const upstream: Sources = {
  attach: async () => undefined,
  interest: async () => {},
  range: async () => [],
  publish: async () => {},
};

/** One hub's broker with SUBSCRIBERS connections holding `ticker.HOT`, counted by `metrics` if given. */
function hub(metrics: HubMetrics | undefined): { broker: HubBroker; batcher: WriteBatcher; written: () => number } {
  const batcher = new WriteBatcher(0);
  const broker = new HubBroker(upstream, { later: () => {} }, { debounceMs: 1e9, maxReplay: 100, meter: metrics });
  let writes = 0;
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const carrier = { write: () => void writes++, close: () => {}, save: () => {} };
    const connection = new Connection(
      "stomp-socket",
      carrier,
      batcher,
      undefined,
      undefined,
      metrics?.open("websocket"),
    );
    const sub: Subscription = { id: "sub-0", stream: "ticker", symbol: "HOT", ack: "auto" };
    const state = { ...newSessionState(`s${i}`), version: "1.2" as const, subs: [sub] };
    connection.session = new StompSession(state, connection, broker, SESSION_LIMITS, authenticateSecret);
    broker.restore(connection.session);
  }
  return { broker, batcher, written: () => writes };
}

/** CPU (µs) per delivered MESSAGE over TICKS deliveries. */
async function run(metrics: boolean): Promise<number> {
  const counts = metrics ? new HubMetrics(Date.now(), { connections: () => [], streams: () => [] }) : undefined;
  const { broker, batcher, written } = hub(counts);
  const start = process.cpuUsage();
  for (let seq = 1; seq <= TICKS; seq++) {
    const tick = {
      symbol: "HOT",
      source: "bench",
      price: 100 + seq / 100,
      ts: Date.now(),
      seq,
      change: 0,
      changePercent: 0,
    };
    await broker.deliver([buildTickFrame(tick, "e")]);
    batcher.run();
  }
  const used = process.cpuUsage(start);
  if (written() !== TICKS * SUBSCRIBERS) throw new Error(`wrote ${written()} of ${TICKS * SUBSCRIBERS}`);
  return (used.user + used.system) / (TICKS * SUBSCRIBERS);
}

async function main(): Promise<void> {
  await run(true); // warm up both paths
  await run(false);
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    off.push(await run(false));
    on.push(await run(true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ns = (us: number) => `${(us * 1000).toFixed(0)} ns`;
  console.log(
    `\nhub JavaScript per delivered MESSAGE (${SUBSCRIBERS} subscribers, ${TICKS} ticks, ${ROUNDS} rounds each, medians)\n`,
  );
  console.log("| | metrics off | metrics on | added |");
  console.log("|---|---|---|---|");
  console.log(`| CPU per MESSAGE | ${ns(median(off))} | ${ns(median(on))} | ${ns(median(on) - median(off))} |`);
  console.log(`\nper round, off: ${off.map(ns).join(", ")}; on: ${on.map(ns).join(", ")}`);
}

runMain(main);
