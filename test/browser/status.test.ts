/**
 * The operator's /status page in headless Chromium against `npm start`, after a known
 * workload (connections over raw WebSocket and SockJS xhr-streaming, subscriptions,
 * ticks from the feed, refused tokens): it asks for the metrics token, refuses a wrong
 * one, then shows the workload's figures and keeps refreshing. It refreshes
 * docs/screenshots/status.png.
 */
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium";
import { type DevServer, startDevServer } from "../support/dev-server";
import { Collector, type Connected, connectStomp } from "../support/stomp";

const TOKEN = "test-metrics-token";
const SCREENSHOTS = resolve(import.meta.dirname, "../../docs/screenshots");
let browser: Browser;
let srv: DevServer;
const clients: Connected[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  srv = await startDevServer({
    runtime: "workerd",
    vars: { METRICS_TOKEN: TOKEN, HUB_SHARDS: "1", TICK_INTERVAL_MS: "250" },
  });
  for (let i = 0; i < 3; i++) {
    const c = await connectStomp(srv.url);
    clients.push(c);
    new Collector(c.client, "/topic/ticker.STAA");
    new Collector(c.client, "/topic/ticker.STAB");
  }
  for (let i = 0; i < 2; i++) {
    const c = await connectStomp(srv.url, undefined, { sockjs: "xhr-streaming" });
    clients.push(c);
    await new Collector(c.client, "/topic/ticker.STAA").waitFor(3);
  }
  await expect(connectStomp(srv.url, undefined, { headers: { passcode: "wrong" } })).rejects.toThrow(/STOMP ERROR/);
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await browser?.close();
  await srv?.stop();
});

it("asks for the token, then shows the hubs, busiest symbols, feed, lag and refusals, refreshing", async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${srv.url}/status`);
  await page.locator("#token-form").waitFor({ state: "visible" });
  // The data is behind the token: a wrong one is refused and the form stays.
  await page.fill("#token", "not-it");
  await page.click("#token-form button");
  await expect.poll(() => page.textContent("#state")).toMatch(/refused/);
  expect(await page.isVisible("#token-form")).toBe(true);
  await page.fill("#token", TOKEN);
  await page.click("#token-form button");
  await page.locator("#state[data-state=live]").waitFor();
  const hub = page.locator("#hubs tr", { hasText: "hub:enam:0" });
  await expect
    .poll(() => hub.locator("td").allTextContents())
    .toEqual([
      "hub:enam:0",
      "up",
      "5",
      "websocket 3, sockjs-xhr_streaming 2",
      "5",
      "8",
      expect.stringMatching(/^(\d+\.\d|…)$/),
    ]);
  // Messages/s needs two refreshes, and the feed ticks every 250 ms to 5 connections.
  await expect
    .poll(async () => Number(await hub.locator("td").nth(6).textContent()), { timeout: 10_000 })
    .toBeGreaterThan(0);
  const staa = page.locator("#symbols tr", { hasText: "STAA" });
  await expect
    .poll(async () => (await staa.locator("td").allTextContents()).slice(0, 3))
    .toEqual(["STAA", "ticker", "5"]);
  expect(await staa.locator("td").nth(3).textContent()).toMatch(/^\d\.\d s$/);
  expect(await staa.locator("td").nth(4).textContent()).toBe("ok");
  expect((await page.locator("#symbols tr", { hasText: "STAB" }).locator("td").allTextContents()).slice(0, 3)).toEqual([
    "STAB",
    "ticker",
    "3",
  ]);
  const feed = await page.locator("#feed tr").first().locator("td").allTextContents();
  expect(feed.slice(0, 4)).toEqual(["feed:0", "sim", "2", "unlimited"]);
  expect(Number(feed[4])).toBeGreaterThan(2);
  expect(await page.textContent("#lag")).toMatch(/^p50 \d+ ms · p95 \d+ ms · mean \d+ ms · \d+ deliveries$/);
  expect(await page.locator("#incidents tr", { hasText: "token failures" }).locator("td").nth(1).textContent()).toBe(
    "1",
  );
  expect(await page.locator("#faults td").first().textContent()).toBe("None.");
  // It keeps refreshing by itself.
  const before = await page.textContent("#state");
  await expect.poll(() => page.textContent("#state"), { timeout: 6_000 }).not.toBe(before);
  await page.screenshot({ path: join(SCREENSHOTS, "status.png"), fullPage: true });
  await page.close();
}, 60_000);
