/**
 * A real provider end to end: `wrangler dev` with FEED_PROVIDER=finnhub pointed at a
 * fake Finnhub on 127.0.0.1. STOMP subscribers get its ticks; pulling stays within the
 * request budget, round-robin; a failing upstream turns into stale marks (never a
 * made-up price) and one log line, and recovers when the upstream heals.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type FakeProviders, GOOD_KEY, PRICE, startFakeProviders } from "../support/fake-providers";
import { healthDetails } from "../support/health";
import { Collector, connectStomp, sleep } from "../support/stomp";

const RPM = 120; // 2 requests/s, against rounds every 250 ms
let fake: FakeProviders;
let srv: DevServer;
beforeAll(async () => {
  fake = await startFakeProviders();
  srv = await startDevServer({
    vars: {
      FEED_PROVIDER: "finnhub",
      FEED_BASE_URL: fake.url,
      FEED_API_KEY: GOOD_KEY,
      FEED_REQUESTS_PER_MINUTE: String(RPM),
      FEED_TIMEOUT_MS: "1000",
      FEED_RETRIES: "0",
      TICK_INTERVAL_MS: "250",
      STALE_AFTER_MS: "1500",
    },
  });
});
afterAll(async () => {
  await srv?.stop();
  await fake?.close();
});

const quoteRequests = () => fake.requests.filter((r) => r.path === "/api/v1/quote");

it("delivers the provider's prices to STOMP subscribers, within the request budget, round-robin", async () => {
  const c = await connectStomp(srv.url, "AAPL");
  const symbols = ["AAPL", "MSFT", "IBM", "ORCL", "KO"];
  const cols = symbols.map((s) => new Collector(c.client, `/topic/ticker.${s}`));
  await Promise.all(cols.map((col) => col.waitFor(1)));
  expect(cols[0]!.ticks[0]).toEqual(
    expect.objectContaining({ symbol: "AAPL", price: PRICE, source: "finnhub", ts: 1_795_000_000_000, prevClose: 122 }),
  );

  const before = quoteRequests().length;
  const started = Date.now();
  await sleep(8_000);
  const seconds = (Date.now() - started) / 1000;
  const made = quoteRequests().length - before;
  // Five symbols at four rounds a second would be 20 requests/s; the budget allows 2.
  expect(made).toBeLessThanOrEqual(Math.ceil((RPM / 60) * seconds) + 2);
  expect(made).toBeGreaterThan(0);
  // Every symbol kept getting fresh ticks (fair round-robin), not just the first ones.
  for (const col of cols) expect(col.messages.length, col.subscription.id).toBeGreaterThanOrEqual(3);
  // The rounds' share of the budget (120 less the quarter kept for new symbols: 90/min) spaces
  // each symbol's updates 5 × 60,000 / 90 ≈ 3.3 s apart: ticks say they stay fresh for two
  // such intervals (not STALE_AFTER_MS alone, 1.5 s), the same threshold the server applies,
  // so a healthy slow feed is never marked stale between its updates.
  for (const col of cols) {
    const live = col.ticks.slice(1);
    expect(live.every((t) => t.staleAfterMs === 6_667)).toBe(true);
    expect(live.every((t) => t.stale === undefined)).toBe(true);
  }

  const health = await healthDetails(srv.url);
  expect(health.feedStatus).toEqual(expect.objectContaining({ provider: "finnhub", requestsPerMinute: RPM }));
  expect(health.feedStatus.lastRound.limited).toBe(true);
  expect(srv.logs()).toMatch(/"event":"feed_budget_limited","provider":"finnhub","requestsPerMinute":120,"active":\d/);
  await c.disconnect();
});

it("keeps the last good price, marks it stale while the upstream fails, logs once, and recovers", async () => {
  const c = await connectStomp(srv.url, "KO");
  const col = new Collector(c.client, "/topic/ticker.KO");
  const other = new Collector(c.client, "/topic/ticker.IBM");
  // Fresh quotes flow (the snapshot may still carry an earlier stale mark).
  await expect.poll(() => col.ticks.at(-1)?.stale, { timeout: 10_000 }).toBeUndefined();
  const from = srv.logs().length;
  const fresh = col.messages.length;
  fake.failing.add("KO");
  await expect.poll(() => col.ticks.slice(fresh).some((t) => t.stale === true), { timeout: 10_000 }).toBe(true);
  const stale = col.ticks.slice(fresh).find((t) => t.stale)!;
  expect(stale.price).toBe(PRICE);
  // The other symbol is untouched by KO's fault.
  const others = other.messages.length;
  await other.waitFor(others + 2);
  expect(other.ticks.slice(others).every((t) => t.stale === undefined && t.price === PRICE)).toBe(true);
  expect(col.ticks.every((t) => t.price === PRICE)).toBe(true);
  const health = await healthDetails(srv.url);
  expect(health.feedStatus.faults.recent.find((f) => f.symbol === "KO")).toMatchObject({
    kind: "upstream",
    reason: expect.stringMatching(/^provider error \(HTTP 503\)/),
  });
  await sleep(1_500);
  expect(
    srv
      .logs()
      .slice(from)
      .match(/"event":"feed_fault","provider":"finnhub","symbol":"KO"/g),
  ).toHaveLength(1);

  fake.failing.delete("KO");
  const count = col.messages.length;
  await expect.poll(() => col.ticks.slice(count).some((t) => t.stale === undefined), { timeout: 10_000 }).toBe(true);
  expect(srv.logs().slice(from)).toMatch(/"event":"feed_recovered","provider":"finnhub","symbol":"KO"/);
  await c.disconnect();
});

it("answers a subscription to a symbol the provider does not know with an ERROR frame", async () => {
  const c = await connectStomp(srv.url, "NOPE");
  c.client.subscribe("/topic/ticker.NOPE", () => {});
  await expect.poll(() => c.errors.length, { timeout: 10_000 }).toBe(1);
  expect(c.errors[0]!.headers.message).toBe("No price for NOPE");
  expect(c.errors[0]!.body).toMatch(/unknown-symbol/);
});

it("answers unknown symbols with 404 and remembers them, and a flood of new symbols cannot starve watched ones", async () => {
  const c = await connectStomp(srv.url);
  const watched = new Collector(c.client, "/topic/ticker.MSFT");
  await watched.waitFor(1);
  const nopeRequests = () =>
    fake.requests.filter((r) => r.path === "/api/v1/quote" && (r.query.get("symbol") ?? "").startsWith("NOPE-")).length;

  const first = await fetch(`${srv.url}/api/quotes?symbols=NOPE-1`);
  expect(first.status).toBe(404);
  expect(await first.text()).toMatch(/^no price for NOPE-1: unknown-symbol/);
  const asked = nopeRequests();
  // Remembered: asked again, it is answered without a request upstream.
  expect((await fetch(`${srv.url}/api/quotes?symbols=NOPE-1`)).status).toBe(404);
  expect(nopeRequests()).toBe(asked);

  // 50 new symbols at once: at most the quarter of the budget kept for new symbols (30/min)
  // reaches the provider; the rest are told to come back, and nobody gets a 500.
  const from = watched.messages.length;
  const statuses = await Promise.all(
    Array.from({ length: 50 }, (_, i) => fetch(`${srv.url}/api/quotes?symbols=NOPE-${i + 2}`).then((r) => r.status)),
  );
  expect(
    statuses.every((s) => s === 404 || s === 503),
    JSON.stringify(statuses),
  ).toBe(true);
  expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
  expect(nopeRequests() - asked).toBeLessThanOrEqual(31);
  // The watched symbol kept its share of the budget meanwhile.
  await watched.waitFor(from + 2, 15_000);
  await c.disconnect();
});
