/**
 * `npm run bench:quiet`: what a live upstream stream costs while nothing trades, on `npm start`
 * (bare workerd). Alpaca's fake (test/support/fakes: connected, auth, the subscription list
 * after every subscribe) pings at the protocol level every 20 s and nothing trades; one viewer
 * watches three equities (a weekend or a night: their market is closed, the case where a
 * quiet stream used to spin its timer). After QUIET_S seconds of
 * quiet, the workerd process's CPU (utime+stime from /proc) over BENCH_SECONDS, as a share of
 * one core (goal: under 0.5%), with the probes the upstream answered and its connections.
 *
 *   flock /tmp/heavy.lock npm run bench:quiet
 *   STREAM_SILENCE_MS=1000 npm run bench:quiet    # a silence a second: probes (or spins) show at once
 *
 * Traffic goes to 127.0.0.1 only; it stops by itself.
 */
import { startFakeProvider } from "../test/support/fakes";
import { Collector, connectStomp, sleep } from "../test/support/stomp";
import { marketState } from "../worker/market/hours";
import { envNumber, runMain } from "./lib/cli";
import { usage } from "./lib/proc";
import { edgeTicker } from "./lib/targets";

const SECONDS = envNumber("BENCH_SECONDS", 20, 120);
const QUIET_S = envNumber("QUIET_S", 10, 60);
const SILENCE_MS = envNumber("STREAM_SILENCE_MS", 30_000, 3_600_000);
const SYMBOLS = ["AAPL", "MSFT", "NVDA"];

async function main(): Promise<void> {
  // Alpaca's fake on its real clock (the market as it is now), pinging at the protocol level every 20 s, nothing trading.
  const fake = await startFakeProvider("alpaca", { stream: { protocolPingMs: 20_000 } });
  for (const s of SYMBOLS) fake.market.list(s, { last: 100, prevClose: 99, volume: 1_000 });
  const target = await edgeTicker("edge-ticker", { ...fake.vars, STREAM_SILENCE_MS: String(SILENCE_MS) });
  const viewer = await connectStomp(target.wsUrl.replace(/^ws/, "http").replace(/\/ws$/, ""));
  const received = () => fake.stream.truth.received.length;
  try {
    await Promise.all(SYMBOLS.map((s) => new Collector(viewer.client, `/topic/ticker.${s}`).waitFor(1)));
    await sleep(QUIET_S * 1000);
    const before = usage(target.pgid, target.proc);
    const messagesBefore = received();
    const connectionsBefore = fake.stream.truth.connections.length;
    const started = Date.now();
    await sleep(SECONDS * 1000);
    const after = usage(target.pgid, target.proc);
    const elapsed = Date.now() - started;
    const share = ((after.cpuUs - before.cpuUs) / (elapsed * 1000)) * 100;
    const states = [...new Set(SYMBOLS.map((s) => marketState(s, Date.now())))].join(", ");
    console.log(`quiet live stream (STREAM_SILENCE_MS=${SILENCE_MS}, market ${states}), after ${QUIET_S} s of quiet:`);
    console.log(
      `  workerd CPU ${((after.cpuUs - before.cpuUs) / 1000).toFixed(0)} ms over ${(elapsed / 1000).toFixed(1)} s: ${share.toFixed(3)}% of one core (goal < 0.5%)`,
    );
    console.log(
      `  upstream: ${received() - messagesBefore} messages from the worker (probes), ${fake.stream.truth.connections.length - connectionsBefore} new connections`,
    );
  } finally {
    await viewer.disconnect();
    await target.stop();
    await fake.close();
  }
}

runMain(main);
