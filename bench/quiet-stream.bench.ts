/**
 * `npm run bench:quiet`: what a live upstream stream costs while nothing trades, on `npm start`
 * (bare workerd). A server on 127.0.0.1 speaks Alpaca's control messages (connected, auth,
 * the subscription list after every subscribe), pings at the protocol level every 20 s and
 * never trades; one viewer watches three equities (a weekend or a night: their market is
 * closed, the case where a quiet stream used to spin its timer). After QUIET_S seconds of
 * quiet, the workerd process's CPU (utime+stime from /proc) over BENCH_SECONDS, as a share of
 * one core (goal: under 0.5%), with the probes the upstream answered and its connections.
 *
 *   flock /tmp/heavy.lock npm run bench:quiet
 *   STREAM_SILENCE_MS=1000 npm run bench:quiet    # a silence a second: probes (or spins) show at once
 *
 * Traffic goes to 127.0.0.1 only; it stops by itself.
 */
import { type WebSocket, WebSocketServer } from "ws";
import { GOOD_KEY, startFakeProviders } from "../test/support/fake-providers";
import { GOOD_SECRET } from "../test/support/fake-streams";
import { Collector, connectStomp, sleep } from "../test/support/stomp";
import { marketState } from "../worker/market/hours";
import { envNumber, runMain } from "./lib/cli";
import { usage } from "./lib/proc";
import { edgeTicker } from "./lib/targets";

const SECONDS = envNumber("BENCH_SECONDS", 20, 120);
const QUIET_S = envNumber("QUIET_S", 10, 60);
const SILENCE_MS = envNumber("STREAM_SILENCE_MS", 30_000, 3_600_000);
const SYMBOLS = ["AAPL", "MSFT", "NVDA"];

interface Upstream {
  url: string;
  connections: number;
  /** Messages the worker sent after its subscriptions: probes (or resubscriptions after reconnects). */
  messages: number;
  close(): Promise<void>;
}

async function quietAlpaca(): Promise<Upstream> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const up: Upstream = {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/v2/{feed}`,
    connections: 0,
    messages: 0,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
  wss.on("connection", (ws: WebSocket) => {
    up.connections++;
    const subscribed = new Set<string>();
    const send = (m: unknown) => ws.send(JSON.stringify([m]));
    send({ T: "success", msg: "connected" });
    const pinger = setInterval(() => ws.ping(), 20_000);
    ws.on("close", () => clearInterval(pinger));
    ws.on("message", (data) => {
      up.messages++;
      const m = JSON.parse(String(data)) as { action?: string; trades?: string[] };
      if (m.action === "auth") return send({ T: "success", msg: "authenticated" });
      for (const s of m.trades ?? []) subscribed.add(s);
      send({ T: "subscription", trades: [...subscribed], quotes: [...subscribed], bars: [] });
    });
  });
  return up;
}

async function main(): Promise<void> {
  const rest = await startFakeProviders();
  const upstream = await quietAlpaca();
  const target = await edgeTicker("edge-ticker", {
    FEED_PROVIDER: "alpaca",
    FEED_BASE_URL: rest.url,
    FEED_STREAM_URL: upstream.url,
    FEED_API_KEY: GOOD_KEY,
    FEED_API_SECRET: GOOD_SECRET,
    STREAM_SILENCE_MS: String(SILENCE_MS),
  });
  const viewer = await connectStomp(target.wsUrl.replace(/^ws/, "http").replace(/\/ws$/, ""));
  try {
    await Promise.all(SYMBOLS.map((s) => new Collector(viewer.client, `/topic/ticker.${s}`).waitFor(1)));
    await sleep(QUIET_S * 1000);
    const before = usage(target.pgid, target.proc);
    const messagesBefore = upstream.messages;
    const connectionsBefore = upstream.connections;
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
      `  upstream: ${upstream.messages - messagesBefore} messages from the worker (probes), ${upstream.connections - connectionsBefore} new connections`,
    );
  } finally {
    await viewer.disconnect();
    await target.stop();
    await upstream.close();
    await rest.close();
  }
}

runMain(main);
