/**
 * The client library (client/) in Node against the real runtime: 20 symbols ticking 10
 * times a second, every `x-seq` seen once and in order across a dropped socket, SockJS, a
 * frozen server (SIGSTOP: noticed within heart-beat + grace) and a restart of the server;
 * a `gap` with the right count when the history no longer reaches back; the compact form
 * (`format: "compact"`) read back into exactly the ticks a JSON client gets.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, type Gap, type Tick, type TickerClient } from "../../client/src/index";
import type { ConnectionState } from "../../client/src/state";
import { type DevServer, startDevServer } from "../support/dev-server";
import { workerdOf } from "../support/processes";
import { unexplained } from "../support/seq-check";
import { sleep } from "../support/stomp";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy";

const SYMBOLS = Array.from({ length: 20 }, (_, i) => `CL${String.fromCharCode(65 + i)}`);
const HEARTBEAT_MS = 1_000;
/** The liveness grace on a quick link (client/src/link.ts). */
const GRACE_MS = 2_000;
const VARS = { TICK_INTERVAL_MS: "100", HEARTBEAT_MS: String(HEARTBEAT_MS), REPLAY_BUDGET: "100000" };

/** What one client saw: each symbol's seqs in arrival order, its gaps and its states. */
class Seen {
  readonly seqs = new Map<string, number[]>(SYMBOLS.map((s) => [s, []]));
  readonly gaps: Gap[] = [];
  readonly states: { state: ConnectionState; at: number }[] = [];
  readonly mismatches: string[] = [];
  /** Ticks that came as a resume's replay (`x-replay`). */
  replayed = 0;
  /** Each tick as it arrived, by symbol and seq: what the compact form is compared on, field by field. */
  readonly ticks = new Map<string, Map<number, Tick>>(SYMBOLS.map((s) => [s, new Map()]));
  /** Each symbol's arrivals as `seq` + l(ive), r(eplayed) or g(ap), with the time: what a failure shows. */
  readonly arrivals = new Map<string, string[]>(SYMBOLS.map((s) => [s, []]));

  constructor(readonly client: TickerClient) {
    client.on("state", (state) => this.states.push({ state, at: Date.now() }));
    client.on("gap", (gap) => this.gaps.push(gap));
    for (const symbol of SYMBOLS) {
      client.ticks(symbol, (tick, { position, arrival }) => {
        if (arrival.kind === "replayed") this.replayed++;
        this.arrivals.get(symbol)!.push(`${tick.seq}${arrival.kind[0]}@${Date.now() % 100_000}`);
        // The body's seq is the header's x-seq.
        if (position?.seq !== tick.seq || tick.symbol !== symbol) this.mismatches.push(`${symbol} ${tick.seq}`);
        this.seqs.get(symbol)!.push(tick.seq);
        this.ticks.get(symbol)!.set(tick.seq, tick);
      });
    }
  }

  /** The arrivals around `seq`, and the states with their times. */
  around(symbol: string, seq: number): string {
    const list = this.arrivals.get(symbol)!;
    const i = list.findIndex((a) => a.startsWith(`${seq}`));
    const states = this.states.map((s) => `${s.state.kind}@${s.at % 100_000}`).join(" ");
    return `${list.slice(Math.max(0, i - 3), i + 4).join(" ")} | ${states}`;
  }

  /** Waits until every symbol has `more` ticks beyond what it had when called. */
  async more(more: number, timeoutMs = 30_000): Promise<void> {
    const from = new Map(SYMBOLS.map((s) => [s, this.seqs.get(s)!.length]));
    const until = Date.now() + timeoutMs;
    while (SYMBOLS.some((s) => this.seqs.get(s)!.length < from.get(s)! + more)) {
      if (Date.now() > until) throw new Error(`fewer than ${more} new ticks within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async state(
    kind: ConnectionState["kind"],
    timeoutMs = 30_000,
    since = 0,
  ): Promise<{ state: ConnectionState; at: number }> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.states.slice(since).find((s) => s.state.kind === kind);
      if (found) return found;
      if (Date.now() > until)
        throw new Error(`no ${kind} state within ${timeoutMs} ms: ${JSON.stringify(this.states)}`);
      await sleep(20);
    }
  }

  /** Every symbol's seqs: each once, in order, consecutive but across the gaps reported (by their count). */
  expectEveryTickOnce(): void {
    expect(this.mismatches).toEqual([]);
    for (const symbol of SYMBOLS) {
      const seqs = this.seqs.get(symbol)!;
      const found = unexplained(
        seqs,
        this.gaps.filter((g) => g.symbol === symbol),
      );
      const around = found.jumps.length > 0 ? this.around(symbol, Number(found.jumps[0]!.split("→")[0])) : "";
      expect(found, `${symbol} ${around}`).toEqual({ jumps: [], extraGaps: [] });
    }
  }
}

let proxy: TcpProxy;
const clients: TickerClient[] = [];
function client(options: Partial<Parameters<typeof connect>[0]> = {}): Seen {
  const c = connect({ url: proxy.url, heartbeatMs: HEARTBEAT_MS, ...options });
  clients.push(c);
  return new Seen(c);
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/**
 * A second client, straight to the server, subscribed all along: symbols tick only while
 * they have subscribers, so while the client under test is away its ticks go on.
 */
function keeper(url: string): TickerClient {
  const c = connect({ url });
  for (const symbol of SYMBOLS) c.ticks(symbol, () => {});
  return c;
}

describe("a client of 20 symbols at 10 ticks a second", () => {
  const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-client-"));
  let srv: DevServer;
  let keep: TickerClient;
  beforeAll(async () => {
    srv = await startDevServer({ vars: VARS, persistDir });
    proxy = await startTcpProxy(srv.port);
    keep = keeper(srv.url);
  });
  afterAll(async () => {
    await keep?.close();
    await proxy?.close();
    await srv?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  });

  it("sees every x-seq once, in order, across a dropped socket, and says it resumed", async () => {
    const seen = client();
    await seen.more(10);
    const before = seen.states.length;
    proxy.cut();
    expect((await seen.state("reconnecting", 10_000, before)).state).toMatchObject({ why: { kind: "closed" } });
    expect((await seen.state("open", 10_000, before)).state).toMatchObject({ transport: "websocket", resumed: true });
    await seen.more(20);
    seen.expectEveryTickOnce();
    expect(seen.gaps).toEqual([]);
    expect(seen.replayed).toBeGreaterThan(0);
  });

  it("in the compact form, sees the ticks a JSON client sees, field by field, across a dropped socket", async () => {
    const plain = new Seen(connect({ url: srv.url, heartbeatMs: HEARTBEAT_MS, format: "json" }));
    clients.push(plain.client);
    await plain.more(5);
    const seen = client({ format: "compact" });
    await seen.more(10);
    const before = seen.states.length;
    proxy.cut();
    expect((await seen.state("open", 10_000, before)).state).toMatchObject({ resumed: true });
    await seen.more(20);
    seen.expectEveryTickOnce();
    expect(seen.gaps).toEqual([]);
    expect(seen.replayed).toBeGreaterThan(0);
    await plain.more(2); // the plain client has every tick the compact one has
    let compared = 0;
    for (const symbol of SYMBOLS)
      for (const [seq, tick] of seen.ticks.get(symbol)!) {
        expect(tick, `${symbol} ${seq}`).toEqual(plain.ticks.get(symbol)!.get(seq));
        compared++;
      }
    expect(compared).toBeGreaterThan(SYMBOLS.length * 30);
  });

  it("does the same over SockJS", async () => {
    const seen = client({ transport: "sockjs" });
    await seen.more(10);
    const open = (await seen.state("open")).state;
    expect(open.kind === "open" && open.transport).toBe("xhr-streaming");
    const before = seen.states.length;
    proxy.cut();
    await seen.state("reconnecting", 10_000, before);
    await seen.state("open", 15_000, before);
    await seen.more(20);
    seen.expectEveryTickOnce();
    expect(seen.gaps).toEqual([]);
  });

  it("notices a frozen server within heart-beat + grace, and resumes without loss when it thaws", async () => {
    const seen = client();
    await seen.more(10);
    // Heart-beats measured: the grace stays at its base on a quick link.
    await sleep(3 * HEARTBEAT_MS);
    expect(seen.client.roundTripMs).toBeLessThan(500);
    const pids = workerdOf(srv.pid);
    expect(pids.length).toBeGreaterThan(0);
    const before = seen.states.length;
    const frozenAt = Date.now();
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    let noticed: { state: ConnectionState; at: number };
    try {
      noticed = await seen.state("reconnecting", HEARTBEAT_MS + GRACE_MS + 5_000, before);
    } finally {
      for (const pid of pids) process.kill(pid, "SIGCONT");
    }
    expect(noticed.state).toMatchObject({ why: { kind: "silent" } });
    // Timers may fire a little late on a busy machine: 500 ms of slack.
    expect(noticed.at - frozenAt).toBeLessThanOrEqual(HEARTBEAT_MS + GRACE_MS + 500);
    await seen.state("open", 30_000, before);
    await seen.more(20);
    seen.expectEveryTickOnce();
  });

  it("sees every x-seq once, in order, across a restart of the server", async () => {
    const seen = client();
    await seen.more(10);
    const before = seen.states.length;
    await srv.stop();
    await seen.state("reconnecting", 10_000, before);
    srv = await startDevServer({ vars: VARS, persistDir, port: srv.port });
    expect((await seen.state("open", 30_000, before)).state).toMatchObject({ resumed: true });
    await seen.more(20);
    // Every x-seq once, in order, resumed from the replay. Ticks the server could not send
    // (its history short of the hole, or the connection's budget conflating the replay burst)
    // come as a gap with their count, which passes here: loss is reported, never silent.
    seen.expectEveryTickOnce();
  });
});

describe("a client away longer than the history reaches", () => {
  let srv: DevServer;
  let keep: TickerClient;
  beforeAll(async () => {
    srv = await startDevServer({ vars: { ...VARS, HISTORY_SIZE: "10" } });
    proxy = await startTcpProxy(srv.port);
    keep = keeper(srv.url);
  });
  afterAll(async () => {
    await keep?.close();
    await proxy?.close();
    await srv?.stop();
  });

  it("reports a gap per symbol with the number of ticks it missed, then goes on without loss", async () => {
    const seen = client();
    await seen.more(10);
    // Away for 3 s: 30 ticks a symbol, three times what the server keeps.
    proxy.down(true);
    proxy.cut();
    await sleep(3_000);
    proxy.down(false);
    seen.client.retryNow();
    const until = Date.now() + 30_000;
    while (new Set(seen.gaps.map((g) => g.symbol)).size < SYMBOLS.length && Date.now() < until) await sleep(50);
    await seen.more(10);
    expect(new Set(seen.gaps.map((g) => g.symbol)).size).toBe(SYMBOLS.length);
    for (const gap of seen.gaps) expect(gap.missed).toBeGreaterThan(10);
    seen.expectEveryTickOnce();
  });
});
