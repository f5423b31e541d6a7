/**
 * Nothing persists for a symbol until it is real. 10,000 random symbol names, spread over
 * every route that names a symbol and over STOMP (ticker, viewers and bar destinations),
 * with the simulator's built-in universe (the shipped default): each gets a typed refusal
 * (404, or an ERROR), and the runtime's persistence directory gains no file: no object was
 * made for any of them. The feed's fault lists stay bounded, and a symbol a publisher made
 * real is deleted once nobody used it for SYMBOL_RETENTION_MS.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { header } from "../../worker/protocol/stomp/frame";
import { type DevServer, startDevServer } from "../support/dev-server";
import { healthDetails } from "../support/health";
import { postTicks } from "../support/publish";
import { RawStomp } from "../support/raw-stomp";
import { Collector, connectStomp, sleep } from "../support/stomp";

const NAMES = 10_000;
/** How the names are spread: 50 a request where a route takes a list, one where it takes one, one per STOMP connection. */
const SHARE = { quotes: 2_500, viewers: 2_500, symbols: 2_500, history: 700, bars: 700, stomp: 1_100 };
const RETENTION_MS = 4_000;
const HUB_SHARDS = 2;

/** The state files under `dir`, by object (a database's -wal/-shm/-journal are the same object). */
function storedObjects(dir: string): Set<string> {
  const out = new Set<string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.add(path.replace(/-(wal|shm|journal)$/, ""));
    }
  };
  walk(dir);
  return out;
}

/** Random names no feed knows (`Q` + 4–7 letters and digits): never the simulator's universe. */
function randomNames(n: number): string[] {
  const names = new Set<string>();
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  while (names.size < n) {
    const length = 4 + Math.floor(Math.random() * 4);
    let name = "Q";
    for (let i = 0; i < length; i++) name += alphabet[Math.floor(Math.random() * alphabet.length)];
    names.add(name);
  }
  return [...names];
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

const chunks = <T>(items: readonly T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

describe("10,000 random symbol names", () => {
  let srv: DevServer;
  const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-unknown-"));
  beforeAll(async () => {
    srv = await startDevServer({ persistDir, vars: { SIM_UNIVERSE: "builtin", HUB_SHARDS: String(HUB_SHARDS) } });
  });
  afterAll(async () => {
    await srv?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  });

  it("are each refused, and leave no new stored object and no new file", async () => {
    // What a working service has made before the flood: its hubs, its scheduler, real symbols.
    expect((await fetch(`${srv.url}/api/quotes?symbols=AAPL,BTC-USD`)).status).toBe(200);
    expect((await fetch(`${srv.url}/api/bars/AAPL?limit=1`)).status).toBe(200);
    expect((await postTicks(srv.url, { symbol: "PUBLISHED1", price: 12.5 }, "test-publish-token")).status).toBe(200);
    // A connection lands on a random shard: connect until both hubs exist (or fail the test).
    const hubFiles = () =>
      [...storedObjects(persistDir)].filter((f) => /ConnectionHub\/[0-9a-f]{64}\.sqlite$/.test(f)).length;
    for (let tries = 0; hubFiles() < HUB_SHARDS; tries++) {
      expect(tries, "connections reaching every hub shard").toBeLessThan(40);
      const c = await connectStomp(srv.url);
      await new Collector(c.client, "/topic/ticker.MSFT").waitFor(1);
      await c.disconnect();
    }
    const wrong = await fetch(`${srv.url}/api/ticks`, { method: "POST", headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    await sleep(1_500);
    const before = storedObjects(persistDir);

    const names = randomNames(NAMES);
    let at = 0;
    const take = (n: number) => {
      at += n;
      return names.slice(at - n, at);
    };
    const started = Date.now();
    const statuses = new Map<string, number>();
    const count = (what: string) => statuses.set(what, (statuses.get(what) ?? 0) + 1);
    const lists = [
      ...chunks(take(SHARE.quotes), 50).map((s) => `/api/quotes?symbols=${s.join(",")}`),
      ...chunks(take(SHARE.viewers), 50).map((s) => `/api/viewers?symbols=${s.join(",")}`),
      ...chunks(take(SHARE.symbols), 50).map((s) => `/api/symbols?symbols=${s.join(",")}`),
      ...take(SHARE.history).map((s) => `/api/history/${s}`),
      ...take(SHARE.bars).map((s) => `/api/bars/${s}?limit=1`),
    ];
    await pool(lists, 16, async (path) => {
      const res = await fetch(`${srv.url}${path}`);
      const body = await res.text();
      count(`${path.split(/[?/]/)[2]} ${res.status}`);
      if (path.startsWith("/api/symbols")) {
        const checks = (JSON.parse(body) as { symbols: Array<{ status: string }> }).symbols;
        expect(new Set(checks.map((c) => c.status))).toEqual(new Set(["unknown"]));
      } else if (path.startsWith("/api/viewers")) {
        expect(new Set(Object.values((JSON.parse(body) as { viewers: Record<string, number> }).viewers))).toEqual(
          new Set([0]),
        );
      } else {
        expect(res.status, `${path}: ${body}`).toBe(404);
        expect(res.headers.get("x-error-code")).toBe("unknown-symbol");
      }
    });
    const destinations = ["/topic/ticker.", "/topic/viewers.", "/topic/bars."];
    await pool(take(SHARE.stomp), 8, async (symbol) => {
      const kind = destinations[symbol.charCodeAt(1) % destinations.length]!;
      const raw = await RawStomp.open(srv.url);
      await raw.connect();
      raw.send(`SUBSCRIBE\nid:1\nreceipt:r\ndestination:${kind}${symbol}${kind === "/topic/bars." ? ".1m" : ""}\n\n\0`);
      const answer = await raw.next();
      count(`stomp ${answer.command}`);
      expect(answer.command, symbol).toBe("ERROR");
      expect(header(answer, "message")).toBe(`No price for ${symbol}`);
      await raw.waitClosed();
    });
    expect(at).toBe(NAMES);
    const took = Date.now() - started;

    await sleep(1_500);
    const created = [...storedObjects(persistDir)].filter((f) => !before.has(f));
    console.log(
      `10,000 unknown names in ${(took / 1000).toFixed(1)} s: ${JSON.stringify(Object.fromEntries(statuses))}; new files: ${created.length}`,
    );
    expect(created).toEqual([]);

    // What was real stays real.
    expect((await fetch(`${srv.url}/api/quotes?symbols=AAPL,PUBLISHED1`)).status).toBe(200);
  }, 240_000);

  it("keep the feed's fault lists bounded: the newest few by kind, and counts", async () => {
    const health = await healthDetails(srv.url);
    const { recent, counts } = health.feedStatus.faults;
    expect(recent.length).toBeLessThanOrEqual(5);
    expect(recent.every((f) => f.kind === "unknown-symbol")).toBe(true);
    // Every name but those /api/viewers only peeked at (it never asks the feed).
    expect(counts["unknown-symbol"]).toBeGreaterThanOrEqual(NAMES - SHARE.viewers - 100);
    const text = await (
      await fetch(`${srv.url}/healthz`, { headers: { Authorization: "Bearer test-metrics-token" } })
    ).text();
    expect(text.length).toBeLessThan(5_000);
    // One log line when look-ups started failing that way, not one per name.
    expect(srv.logs().match(/"event":"feed_fault"/g)?.length ?? 0).toBeLessThanOrEqual(2);
  });
});

describe("a symbol nobody uses", () => {
  let srv: DevServer;
  beforeAll(async () => {
    srv = await startDevServer({ vars: { SIM_UNIVERSE: "builtin", SYMBOL_RETENTION_MS: String(RETENTION_MS) } });
  });
  afterAll(async () => srv?.stop());

  it("deletes its stored state after SYMBOL_RETENTION_MS, and is unknown again; one in use stays", async () => {
    expect((await postTicks(srv.url, { symbol: "IDLEPUB", price: 3.5 }, "test-publish-token")).status).toBe(200);
    expect((await postTicks(srv.url, { symbol: "BUSYPUB", price: 4.5 }, "test-publish-token")).status).toBe(200);
    const c = await connectStomp(srv.url);
    const busy = new Collector(c.client, "/topic/ticker.BUSYPUB");
    await busy.waitFor(1);
    expect((await fetch(`${srv.url}/api/quotes?symbols=IDLEPUB`)).status).toBe(200);
    await srv.waitForLog(/"event":"symbol_state_deleted","symbol":"IDLEPUB"/, RETENTION_MS * 3);
    // The gates' memory of it lasts a minute at most; the shard no longer knows it.
    await expect
      .poll(async () => (await fetch(`${srv.url}/api/quotes?symbols=IDLEPUB`)).status, {
        timeout: 70_000,
        interval: 2_000,
      })
      .toBe(404);
    expect(srv.logs()).not.toMatch(/"event":"symbol_state_deleted","symbol":"BUSYPUB"/);
    expect((await fetch(`${srv.url}/api/quotes?symbols=BUSYPUB`)).status).toBe(200);
    expect(c.errors).toEqual([]);
    await c.disconnect();
  }, 120_000);
});
