/**
 * Staying up (`npm run soak`, not part of `npm test`), on bare workerd (`npm start`):
 *  1. churn: SOAK_CHURN_ROUNDS rounds of SOAK_CHURN connections opened, subscribed and
 *     dropped without a close; the workerd RSS after each round (as it is, and after a
 *     full GC forced through the inspector), and every symbol leaving the active set once
 *     its subscribers are gone;
 *  2. soak: SOAK_CLIENTS connections with heart-beats held SOAK_MINUTES at one tick per
 *     second per symbol: unexpected closes, seq order per client, RSS over time;
 *  3. restart: SOAK_RESTART_CLIENTS connected clients, the server restarted under them: they
 *     reconnect with backoff and jitter (reconnects per second, peak) and resume from their
 *     positions (ticks replayed, gaps flagged, silent gaps: must be 0).
 * Defaults: 10 × 1,000, 5,000 for 10 minutes, 1,000. Traffic to 127.0.0.1 only; bounded.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { FIRST_RETRY_MAX_MS, FIRST_RETRY_MIN_MS, reconnectDelay } from "../client/src/backoff";
import { type DevServer, freePort, startDevServer } from "../test/support/dev-server";
import { healthDetails } from "../test/support/health";
import { sleep } from "../test/support/stomp";
import { envNumber, runMain } from "./lib/cli";
import { type InspectorSend, inspectWorker } from "./lib/inspector";
import { mib, usage } from "./lib/proc";

const CHURN_ROUNDS = envNumber("SOAK_CHURN_ROUNDS", 10, 50);
const CHURN = envNumber("SOAK_CHURN", 1_000, 10_000);
const CLIENTS = envNumber("SOAK_CLIENTS", 5_000, 10_000);
const MINUTES = envNumber("SOAK_MINUTES", 10, 60);
const RESTART_CLIENTS = envNumber("SOAK_RESTART_CLIENTS", 1_000, 5_000);
const SYMBOLS = Array.from({ length: 20 }, (_, i) => `SOAK${i}`);
const VARS = {
  HUB_SHARDS: "4",
  HUB_MAX_CONNECTIONS: "32768",
  MAX_CONNECTIONS_PER_ADDRESS: "32768", // every client is 127.0.0.1
  TICK_INTERVAL_MS: "1000",
  HEARTBEAT_MS: "10000",
  INTEREST_DEBOUNCE_MS: "250",
};

interface Stats {
  unexpectedCloses: number;
  orderViolations: number;
  replayed: number;
  gaps: number;
  silentGaps: number;
  reconnects: number[];
}

/** A bare STOMP client: heart-beats, per-symbol positions, resume with x-since, reconnect with backoff and jitter. */
class SoakClient {
  private ws: WebSocket | undefined;
  private readonly last = new Map<string, { epoch: string; seq: number }>();
  private beat: ReturnType<typeof setInterval> | undefined;
  private failures = 0;
  private stopped = false;
  expectClose = false;

  constructor(
    private readonly url: string,
    private readonly symbols: string[],
    private readonly stats: Stats,
    private readonly reconnect: boolean,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, ["v12.stomp"]);
      this.ws = ws;
      let subscribed = false;
      ws.on("open", () => ws.send("CONNECT\naccept-version:1.2\nheart-beat:10000,0\n\n\0"));
      ws.on("message", (data) => {
        const text = data.toString();
        if (!subscribed) {
          if (!text.startsWith("CONNECTED")) return reject(new Error(text.slice(0, 80)));
          subscribed = true;
          this.failures = 0;
          ws.send(
            this.symbols
              .map((s, i) => {
                const at = this.last.get(s);
                return `SUBSCRIBE\nid:${i}\ndestination:/topic/ticker.${s}\n${at ? `x-since:${at.epoch}:${at.seq}\n` : ""}\n\0`;
              })
              .join(""),
          );
          this.beat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send("\n"), 5_000);
          return resolve();
        }
        for (const frame of text.split("\0")) this.onFrame(frame);
      });
      ws.on("close", () => {
        clearInterval(this.beat);
        if (!this.expectClose && subscribed) this.stats.unexpectedCloses++;
        if (this.reconnect && !this.stopped) this.retry();
      });
      ws.on("error", (err) => {
        if (!subscribed) reject(err);
      });
    });
  }

  private onFrame(frame: string): void {
    if (!frame.startsWith("MESSAGE") && !frame.startsWith("\nMESSAGE")) return;
    const header = (name: string) => new RegExp(`\\n${name}:([^\\n]*)`).exec(frame)?.[1];
    const symbol = header("destination")?.slice("/topic/ticker.".length);
    const seq = Number(header("x-seq"));
    const epoch = header("x-epoch");
    if (!symbol || !epoch) return;
    const before = this.last.get(symbol);
    if (header("x-gap") === "true") this.stats.gaps++;
    else if (header("x-replay") === "true") this.stats.replayed++;
    else if (before && before.epoch === epoch && seq > before.seq + 1) this.stats.silentGaps++;
    if (before && before.epoch === epoch && seq <= before.seq) this.stats.orderViolations++;
    this.last.set(symbol, { epoch, seq });
  }

  /** The web client's own backoff (client/src/backoff.ts). */
  private retry(): void {
    const delay = reconnectDelay(this.failures);
    this.failures++;
    setTimeout(() => {
      if (this.stopped) return;
      this.stats.reconnects.push(Date.now());
      this.open().catch(() => undefined);
    }, delay);
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Drops the TCP connection without a WebSocket close, as a dead tab or a lost network would. */
  vanish(): void {
    this.stopped = true;
    this.expectClose = true;
    this.ws?.terminate();
  }

  stop(): void {
    this.stopped = true;
    this.expectClose = true;
    this.ws?.close();
  }
}

const newStats = (): Stats => ({
  unexpectedCloses: 0,
  orderViolations: 0,
  replayed: 0,
  gaps: 0,
  silentGaps: 0,
  reconnects: [],
});
const pick = (n: number, i: number) => Array.from({ length: n }, (_, j) => SYMBOLS[(i * 7 + j * 3) % SYMBOLS.length]!);
const wsUrl = (srv: DevServer) => `${srv.url.replace(/^http/, "ws")}/ws`;

async function connectAll(
  srv: DevServer,
  count: number,
  symbols: number,
  stats: Stats,
  reconnect = false,
): Promise<SoakClient[]> {
  const clients: SoakClient[] = [];
  for (let i = 0; i < count; i += 200) {
    const batch = Array.from(
      { length: Math.min(200, count - i) },
      (_, j) => new SoakClient(wsUrl(srv), pick(symbols, i + j), stats, reconnect),
    );
    await Promise.all(batch.map((c) => c.open()));
    clients.push(...batch);
  }
  return clients;
}

/**
 * RSS alone cannot tell a leak from garbage V8 has not collected yet: each dropped socket
 * leaves runtime memory that is freed only when its JS wrapper is collected, and V8 does
 * not see that memory, so it collects late. After each round the RSS is read, then again
 * after a full collection forced through the inspector: that second figure is what the
 * hub keeps.
 */
async function churn(srv: DevServer, send: InspectorSend): Promise<void> {
  console.log(`\n1. churn: ${CHURN_ROUNDS} rounds × ${CHURN} connections dropped without a close`);
  const raw: number[] = [];
  const kept: number[] = [];
  for (let round = 1; round <= CHURN_ROUNDS; round++) {
    const clients = await connectAll(srv, CHURN, envNumber("SOAK_CHURN_SUBSCRIPTIONS", 1, 100), newStats());
    await sleep(1_500);
    for (const c of clients) c.vanish();
    await sleep(3_000);
    raw.push(usage(srv.pid, "workerd").rssBytes);
    await send("HeapProfiler.collectGarbage");
    kept.push(usage(srv.pid, "workerd").rssBytes);
    console.log(`   round ${round}: workerd RSS ${mib(raw.at(-1)!)}, after a full GC ${mib(kept.at(-1)!)}`);
  }
  const growth = (series: number[]) => (series.at(-1)! - series[0]!) / series[0]!;
  const percent = (g: number) => `${(g * 100).toFixed(1)}%`;
  console.log(
    `   RSS after the last round vs the first: ${percent(growth(raw))} before GC; ${percent(growth(kept))} after (${Math.abs(growth(kept)) <= 0.1 ? "within" : "OUTSIDE"} 10%)`,
  );
  const started = Date.now();
  let active = (await healthDetails(srv.url)).activeSymbols.length;
  while (active > 0 && Date.now() - started < 60_000) {
    await sleep(1_000);
    active = (await healthDetails(srv.url)).activeSymbols.length;
  }
  console.log(
    `   active symbols after the last round: ${active} (${((Date.now() - started) / 1000).toFixed(1)} s after it)`,
  );
}

async function soak(srv: DevServer): Promise<void> {
  console.log(`\n2. soak: ${CLIENTS} connections with heart-beats, 5 of 20 symbols each, ${MINUTES} min`);
  const stats = newStats();
  const t0 = Date.now();
  const clients = await connectAll(srv, CLIENTS, 5, stats);
  console.log(`   connected in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const end = Date.now() + MINUTES * 60_000;
  while (Date.now() < end) {
    await sleep(Math.min(60_000, end - Date.now()));
    const { rssBytes } = usage(srv.pid, "workerd");
    console.log(
      `   ${((Date.now() - t0) / 60_000).toFixed(1)} min: RSS ${mib(rssBytes)}, unexpected closes ${stats.unexpectedCloses}, seq out of order ${stats.orderViolations}, silent gaps ${stats.silentGaps}`,
    );
  }
  for (const c of clients) c.stop();
  await sleep(2_000);
}

async function restart(srv: DevServer, persistDir: string, port: number): Promise<DevServer> {
  console.log(`\n3. restart under ${RESTART_CLIENTS} connected clients`);
  const stats = newStats();
  const clients = await connectAll(srv, RESTART_CLIENTS, 5, stats, true);
  await sleep(3_000);
  for (const c of clients) c.expectClose = true;
  const stoppedAt = Date.now();
  await srv.stop();
  const next = await startDevServer({ runtime: "workerd", vars: VARS, persistDir, port });
  const upAt = Date.now();
  const deadline = Date.now() + 120_000;
  while (clients.some((c) => !c.connected) && Date.now() < deadline) await sleep(500);
  const back = clients.filter((c) => c.connected).length;
  await sleep(3_000);
  const perSecond = new Map<number, number>();
  for (const t of stats.reconnects)
    perSecond.set(Math.floor((t - stoppedAt) / 1000), (perSecond.get(Math.floor((t - stoppedAt) / 1000)) ?? 0) + 1);
  const peak = Math.max(...perSecond.values());
  console.log(
    `   down for ${((upAt - stoppedAt) / 1000).toFixed(1)} s; ${back}/${RESTART_CLIENTS} back ${((Date.now() - upAt) / 1000).toFixed(1)} s after restart`,
  );
  const bound = Math.ceil(RESTART_CLIENTS / ((FIRST_RETRY_MAX_MS - FIRST_RETRY_MIN_MS) / 1000));
  console.log(
    `   reconnect attempts: ${stats.reconnects.length}, peak ${peak}/s (first retries spread over 0.5–3 s: about ${bound}/s expected)`,
  );
  console.log(
    `   resumed: ${stats.replayed} ticks replayed, ${stats.gaps} gaps flagged, ${stats.silentGaps} silent gaps, ${stats.orderViolations} out of order`,
  );
  for (const c of clients) c.stop();
  return next;
}

async function main(): Promise<void> {
  const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-soak-"));
  const port = await freePort();
  const inspectorPort = await freePort();
  let srv = await startDevServer({
    runtime: "workerd",
    vars: VARS,
    persistDir,
    port,
    extraArgs: ["--inspector-port", String(inspectorPort)],
  });
  try {
    if (CHURN_ROUNDS > 0) await churn(srv, await inspectWorker(inspectorPort));
    if (MINUTES > 0 && CLIENTS > 0) await soak(srv);
    if (RESTART_CLIENTS > 0) srv = await restart(srv, persistDir, port);
  } finally {
    await srv.stop();
    rmSync(persistDir, { recursive: true, force: true });
  }
}

runMain(main);
