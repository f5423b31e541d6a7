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
import { startDevServer } from "../test/support/dev-server";
import { postTicks } from "../test/support/publish";
import { type Connected, connectStomp, sleep } from "../test/support/stomp";
import { envNumber, runMain } from "./lib/cli";
import { publishPaced } from "./lib/paced";
import { groupProcesses, mib, percentile } from "./lib/proc";

const SUBSCRIBERS = envNumber("BENCH_SUBSCRIBERS", 1000, 5000);
const RATE = envNumber("BENCH_RATE", 10, 200);
const SECONDS = envNumber("BENCH_SECONDS", 10, 120);
/** `ws` (raw /ws) or a sockjs-client transport on /sockjs. */
const TRANSPORT = process.env.BENCH_TRANSPORT ?? "ws";
const SOCKJS_TRANSPORTS = ["websocket", "xhr-streaming", "xhr-polling"] as const;
const TOKEN = "bench-token";
const SYMBOL = "BENCH";

async function main(): Promise<void> {
  const srv = await startDevServer({
    // Every bench client comes from 127.0.0.1: lift the per-address cap.
    vars: {
      PUBLISH_TOKEN: TOKEN,
      TICK_INTERVAL_MS: "3600000",
      PUBLISH_HOLD_MS: "3600000",
      HEARTBEAT_MS: "0",
      MAX_CONNECTIONS_PER_ADDRESS: "32768",
    },
  });
  const peak: Record<string, number> = {};
  const sampler = setInterval(() => {
    const byName: Record<string, number> = {};
    for (const p of groupProcesses(srv.pid)) byName[p.name] = (byName[p.name] ?? 0) + p.rssBytes;
    for (const [name, rss] of Object.entries(byName)) peak[name] = Math.max(peak[name] ?? 0, rss);
  }, 200);
  const clients: Connected[] = [];
  try {
    const sockjs = SOCKJS_TRANSPORTS.find((t) => t === TRANSPORT);
    if (TRANSPORT !== "ws" && !sockjs)
      throw new Error(`BENCH_TRANSPORT must be ws or one of ${SOCKJS_TRANSPORTS.join(", ")}`);
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
    const published = await publishPaced(RATE, SECONDS, 1, async (price) => {
      const res = await postTicks(srv.url, { symbol: SYMBOL, price, ts: Date.now() }, TOKEN);
      if (!res.ok) throw new Error(`POST /api/ticks answered ${res.status}`);
    });
    const publishEnd = Date.now();
    const expected = published.sent * SUBSCRIBERS;
    const deadline = publishEnd + 10_000;
    while (delivered < expected && Date.now() < deadline) await sleep(50);
    const elapsed = (Math.max(Date.now(), publishEnd) - start) / 1000;
    measuring = false;

    latencies.sort((a, b) => a - b);
    console.log("");
    console.log(`subscribers          ${SUBSCRIBERS} over ${TRANSPORT}`);
    console.log(`ticks published      ${published.sent} (${RATE}/s for ${SECONDS} s), ${published.failed} failed`);
    console.log(`deliveries           ${delivered} of ${expected} (${((delivered / expected) * 100).toFixed(2)}%)`);
    console.log(`deliveries/s         ${Math.round(delivered / elapsed)}`);
    console.log(`latency p50          ${percentile(latencies, 50)} ms`);
    console.log(`latency p99          ${percentile(latencies, 99)} ms`);
    console.log(`latency max          ${latencies.at(-1)} ms`);
    console.log(`peak RSS workerd     ${mib(peak.workerd ?? 0)}`);
    console.log(
      `peak RSS all server  ${mib(Object.values(peak).reduce((a, b) => a + b, 0))} (npx + wrangler + workerd)`,
    );
  } finally {
    clearInterval(sampler);
    await Promise.all(clients.map((c) => c.disconnect().catch(() => undefined)));
    await srv.stop();
  }
}

runMain(main);
