/**
 * The client library in Chromium (its browser bundle, stompjs inside, on a site of its own)
 * against `npm start`: 20 symbols ticking 10 times a second, every `x-seq` seen once and in
 * order across a dropped socket, SockJS and a restart of the server; a `gap` with the right
 * count when the history no longer reaches back.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type TickerClient } from "../../client/src/index";
import type { ConnectionState } from "../../client/src/state";
import { type Browser, launchChromium } from "../support/chromium";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type ReportedGap, unexplained } from "../support/seq-check";
import { startStaticServer } from "../support/static-server";
import { sleep } from "../support/stomp";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy";

const FIXTURES = resolve(import.meta.dirname, "fixtures");
const SYMBOLS = Array.from({ length: 20 }, (_, i) => `CB${String.fromCharCode(65 + i)}`);
const VARS = { TICK_INTERVAL_MS: "100", REPLAY_BUDGET: "100000", SIM_UNIVERSE: "any" };

interface Seen {
  seqs: Record<string, number[]>;
  gaps: ReportedGap[];
  states: { state: ConnectionState; at: number }[];
  replayed: number;
  mismatches: string[];
}

let browser: Browser;
let site: Awaited<ReturnType<typeof startStaticServer>>;
beforeAll(async () => {
  browser = await launchChromium();
  const bundle = await build({
    entryPoints: [resolve(import.meta.dirname, "../../client/src/index.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
  });
  const js = bundle.outputFiles[0]!.text;
  site = await startStaticServer({
    "/": { path: join(FIXTURES, "client-host.html"), type: "text/html" },
    "/client.js": { type: "text/javascript", respond: async () => js },
  });
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** The server, a path to it the test can cut, and a Node client keeping every symbol ticking while the page is away. */
async function serve(vars: Record<string, string>, persistDir?: string) {
  const srv = await startDevServer({
    runtime: "workerd",
    vars: { ...VARS, ALLOWED_ORIGINS: site.url, ...vars },
    persistDir,
  });
  const proxy = await startTcpProxy(srv.port);
  const keeper = connect({ url: srv.url });
  for (const symbol of SYMBOLS) keeper.ticks(symbol, () => {});
  return { srv, proxy, keeper };
}

async function openClient(url: string, options: Record<string, unknown> = {}): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(site.url);
  await page.evaluate(`start(${JSON.stringify(url)}, ${JSON.stringify(SYMBOLS)}, ${JSON.stringify(options)})`);
  return page;
}

const seenOf = (page: Page) => page.evaluate("seen") as Promise<Seen>;

/** Waits until every symbol has `more` ticks beyond what it had when called. */
async function more(page: Page, n: number, timeoutMs = 30_000): Promise<void> {
  const from = await seenOf(page);
  await expect
    .poll(
      async () => {
        const now = await seenOf(page);
        return SYMBOLS.every((s) => now.seqs[s]!.length >= from.seqs[s]!.length + n);
      },
      { timeout: timeoutMs, interval: 100 },
    )
    .toBe(true);
}

async function stateAfter(page: Page, kind: ConnectionState["kind"], since: number, timeoutMs = 30_000) {
  await expect
    .poll(async () => (await seenOf(page)).states.slice(since).some((s) => s.state.kind === kind), {
      timeout: timeoutMs,
      interval: 50,
    })
    .toBe(true);
  return (await seenOf(page)).states.slice(since).find((s) => s.state.kind === kind)!.state;
}

async function expectEveryTickOnce(page: Page): Promise<Seen> {
  const seen = await seenOf(page);
  expect(seen.mismatches).toEqual([]);
  for (const symbol of SYMBOLS) {
    const gaps = seen.gaps.filter((g) => g.symbol === symbol);
    expect(unexplained(seen.seqs[symbol]!, gaps), symbol).toEqual({ jumps: [], extraGaps: [] });
  }
  return seen;
}

describe("the client in Chromium, 20 symbols at 10 ticks a second", () => {
  const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-client-browser-"));
  let srv: DevServer;
  let proxy: TcpProxy;
  let keeper: TickerClient;
  beforeAll(async () => {
    ({ srv, proxy, keeper } = await serve({}, persistDir));
  });
  afterAll(async () => {
    await keeper?.close();
    await proxy?.close();
    await srv?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  });

  it("sees every x-seq once, in order, across a dropped socket", async () => {
    const page = await openClient(proxy.url);
    await more(page, 10);
    const before = (await seenOf(page)).states.length;
    proxy.cut();
    await stateAfter(page, "reconnecting", before, 10_000);
    expect(await stateAfter(page, "open", before, 10_000)).toMatchObject({ transport: "websocket", resumed: true });
    await more(page, 20);
    const seen = await expectEveryTickOnce(page);
    expect(seen.gaps).toEqual([]);
    expect(seen.replayed).toBeGreaterThan(0);
    await page.close();
  });

  it("does the same over SockJS (loaded from the host only then)", async () => {
    const page = await openClient(proxy.url, { transport: "sockjs" });
    await more(page, 10);
    expect(await stateAfter(page, "open", 0)).toMatchObject({ transport: "xhr-streaming" });
    const before = (await seenOf(page)).states.length;
    proxy.cut();
    await stateAfter(page, "reconnecting", before, 10_000);
    await stateAfter(page, "open", before, 15_000);
    await more(page, 20);
    expect((await expectEveryTickOnce(page)).gaps).toEqual([]);
    await page.close();
  });

  it("sees every x-seq once, in order, across a restart of the server", async () => {
    const page = await openClient(proxy.url);
    await more(page, 10);
    const before = (await seenOf(page)).states.length;
    const port = srv.port;
    await srv.stop();
    await stateAfter(page, "reconnecting", before, 10_000);
    srv = await startDevServer({
      runtime: "workerd",
      vars: { ...VARS, ALLOWED_ORIGINS: site.url },
      persistDir,
      port,
    });
    expect(await stateAfter(page, "open", before, 30_000)).toMatchObject({ resumed: true });
    await more(page, 20);
    // Once, in order, or a reported gap with its count (the server may lose a few ticks across a restart: test/e2e/client.test.ts).
    await expectEveryTickOnce(page);
    await page.close();
  });
});

describe("the client in Chromium, away longer than the history reaches", () => {
  let srv: DevServer;
  let proxy: TcpProxy;
  let keeper: TickerClient;
  beforeAll(async () => {
    ({ srv, proxy, keeper } = await serve({ HISTORY_SIZE: "10" }));
  });
  afterAll(async () => {
    await keeper?.close();
    await proxy?.close();
    await srv?.stop();
  });

  it("reports a gap per symbol with the number of ticks it missed", async () => {
    const page = await openClient(proxy.url);
    await more(page, 10);
    proxy.down(true);
    proxy.cut();
    await sleep(3_000);
    proxy.down(false);
    await page.evaluate("client.retryNow()");
    await expect
      .poll(async () => new Set((await seenOf(page)).gaps.map((g) => g.symbol)).size, { timeout: 30_000 })
      .toBe(SYMBOLS.length);
    await more(page, 10);
    const seen = await expectEveryTickOnce(page);
    for (const gap of seen.gaps) expect(gap.missed).toBeGreaterThan(10);
    await page.close();
  });
});
