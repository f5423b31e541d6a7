/**
 * Fan-out benchmark: N STOMP subscribers (unmodified @stomp/stompjs over `ws`) on one
 * symbol of a local `wrangler dev`, ticks published at a fixed rate over HTTP.
 * Prints deliveries/s, tick→client latency p50/p99 and the runtime's peak memory.
 *
 *   npm run bench:fanout                                   # 1,000 subscribers, 10 ticks/s, 10 s
 *   BENCH_SUBSCRIBERS=2000 BENCH_RATE=20 BENCH_SECONDS=15 npm run bench:fanout
 *   BENCH_TRANSPORT=xhr-streaming BENCH_SUBSCRIBERS=200 npm run bench:fanout   # over sockjs-client
 *
 * Traffic goes to 127.0.0.1 only; counts and duration are bounded; it stops by itself.
 */
import { readFileSync, readdirSync } from "node:fs";
import { startDevServer } from "../test/support/dev-server";
import { postTicks } from "../test/support/publish";
import { Collector, connectStomp, sleep, type Connected } from "../test/support/stomp";
import { envNumber, runMain } from "./lib/cli";

const SUBSCRIBERS = envNumber("BENCH_SUBSCRIBERS", 1000, 5000);
const RATE = envNumber("BENCH_RATE", 10, 200);
const SECONDS = envNumber("BENCH_SECONDS", 10, 120);
/** `ws` (raw /ws) or a sockjs-client transport on /sockjs. */
const TRANSPORT = process.env.BENCH_TRANSPORT ?? "ws";
const SOCKJS_TRANSPORTS = ["websocket", "xhr-streaming", "xhr-polling"] as const;
const TOKEN = "bench-token";
const SYMBOL = "BENCH";

/** Resident memory (bytes) of the processes in a process group, by name. */
function groupRss(pgid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue; // field 5: pgrp
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
      out[name] = (out[name] ?? 0) + rss;
    } catch {
      // process ended while sampling
    }
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const srv = await startDevServer({
    // Every bench client comes from 127.0.0.1: lift the per-address cap.
    vars: { PUBLISH_TOKEN: TOKEN, TICK_INTERVAL_MS: "3600000", PUBLISH_HOLD_MS: "3600000", HEARTBEAT_MS: "0", MAX_CONNECTIONS_PER_ADDRESS: "32768" },
  });
  const peak: Record<string, number> = {};
  const sampler = setInterval(() => {
    for (const [name, rss] of Object.entries(groupRss(srv.pid))) peak[name] = Math.max(peak[name] ?? 0, rss);
  }, 200);
  const clients: Connected[] = [];
  try {
    const sockjs = SOCKJS_TRANSPORTS.find((t) => t === TRANSPORT);
    if (TRANSPORT !== "ws" && !sockjs) throw new Error(`BENCH_TRANSPORT must be ws or one of ${SOCKJS_TRANSPORTS.join(", ")}`);
    console.log(`connecting ${SUBSCRIBERS} subscribers to ${SYMBOL} over ${TRANSPORT}…`);
    const latencies: number[] = [];
    let delivered = 0;
    let measuring = false;
    const t0 = Date.now();
    for (let i = 0; i < SUBSCRIBERS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, SUBSCRIBERS - i) }, () => connectStomp(srv.url, SYMBOL, { sockjs })),
      );
      for (const c of batch) {
        clients.push(c);
        c.client.subscribe(`/topic/ticker.${SYMBOL}`, (m) => {
          if (!measuring) return;
          delivered++;
          latencies.push(Date.now() - (JSON.parse(m.body) as { ts: number }).ts);
        });
      }
    }
    console.log(`connected in ${((Date.now() - t0) / 1000).toFixed(1)} s; publishing ${RATE} ticks/s for ${SECONDS} s`);
    await sleep(1000);

    measuring = true;
    const start = Date.now();
    let sent = 0;
    let publishFailures = 0;
    let price = 100;
    while (Date.now() - start < SECONDS * 1000) {
      const due = start + (sent * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      price = Math.max(1, price + (Math.random() - 0.5));
      sent++;
      // A failed publish under load is counted, not fatal: the run must still end and clean up.
      void postTicks(srv.url, { symbol: SYMBOL, price: Number(price.toFixed(2)), ts: Date.now() }, TOKEN).then(
        (res) => {
          if (!res.ok) publishFailures++;
        },
        () => {
          publishFailures++;
        },
      );
    }
    const publishEnd = Date.now();
    const expected = sent * SUBSCRIBERS;
    const deadline = publishEnd + 10_000;
    while (delivered < expected && Date.now() < deadline) await sleep(50);
    const elapsed = (Math.max(Date.now(), publishEnd) - start) / 1000;
    measuring = false;

    latencies.sort((a, b) => a - b);
    console.log("");
    console.log(`subscribers          ${SUBSCRIBERS} over ${TRANSPORT}`);
    console.log(`ticks published      ${sent} (${RATE}/s for ${SECONDS} s), ${publishFailures} failed`);
    console.log(`deliveries           ${delivered} of ${expected} (${((delivered / expected) * 100).toFixed(2)}%)`);
    console.log(`deliveries/s         ${Math.round(delivered / elapsed)}`);
    console.log(`latency p50          ${percentile(latencies, 50)} ms`);
    console.log(`latency p99          ${percentile(latencies, 99)} ms`);
    console.log(`latency max          ${latencies.at(-1)} ms`);
    console.log(`peak RSS workerd     ${mb(peak.workerd ?? 0)}`);
    console.log(`peak RSS all server  ${mb(Object.values(peak).reduce((a, b) => a + b, 0))} (npx + wrangler + workerd)`);
  } finally {
    clearInterval(sampler);
    await Promise.all(clients.map((c) => c.disconnect().catch(() => undefined)));
    await srv.stop();
  }
}

runMain(main);
