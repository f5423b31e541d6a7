/**
 * The simulator's built-in universe (SIM_UNIVERSE=builtin, the shipped default): other
 * symbols are unknown, with a 404 or an ERROR that says so, until a publisher sends them;
 * SYMBOLS narrows the universe; /api/symbols tells clients before they subscribe.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import { Collector, connectStomp } from "../support/stomp";

let srv: DevServer;
beforeAll(async () => {
  srv = await startDevServer({ vars: { SIM_UNIVERSE: "builtin", SYMBOLS: "AAPL,MSFT,*-USD,EURUSD=X,CUSTOM*,ZZZZ" } });
});
afterAll(async () => srv?.stop());

const checks = async (symbols: string) => {
  const res = await fetch(`${srv.url}/api/symbols?symbols=${encodeURIComponent(symbols)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { symbols: Array<{ symbol: string; status: string; reason?: string }> }).symbols;
};

it("prices symbols of its universe and answers others as unknown, over HTTP and STOMP", async () => {
  const ok = await fetch(`${srv.url}/api/quotes?symbols=AAPL,BTC-USD,EURUSD=X`);
  expect(ok.status).toBe(200);
  const { quotes } = (await ok.json()) as { quotes: Array<{ symbol: string; price: number }> };
  expect(quotes.map((q) => q.symbol)).toEqual(["AAPL", "BTC-USD", "EURUSD=X"]);
  expect(quotes[1]!.price).toBeGreaterThan(10_000);
  expect(quotes[2]!.price).toBeLessThan(10);

  // Carried by SYMBOLS (ZZZZ, NOTREAL-USD) but unknown to the simulator: a 404 that says so, never an invented price.
  for (const symbol of ["ZZZZ", "NOTREAL-USD"]) {
    const res = await fetch(`${srv.url}/api/quotes?symbols=${symbol}`);
    expect(res.status, symbol).toBe(404);
    expect(await res.text()).toMatch(
      new RegExp(`^no price for ${symbol}: unknown-symbol: ${symbol} is not a symbol the simulator knows`),
    );
  }

  const c = await connectStomp(srv.url);
  c.client.subscribe("/topic/ticker.ZZZZ", () => {});
  await expect.poll(() => c.errors.length, { timeout: 10_000 }).toBe(1);
  expect(c.errors[0]!.headers.message).toBe("No price for ZZZZ");
  expect(c.errors[0]!.body).toMatch(/not a symbol the simulator knows/);
  await c.disconnect();
});

it("SYMBOLS narrows the universe: MSFT-like symbols outside it are not carried", async () => {
  const res = await fetch(`${srv.url}/api/quotes?symbols=TSLA`);
  expect(res.status).toBe(404);
  expect(await res.text()).toMatch(/^TSLA is not among the symbols this service carries/);
  expect(await checks("AAPL,TSLA,ZZZZ,ETH-USD")).toEqual([
    { symbol: "AAPL", status: "known" },
    { symbol: "TSLA", status: "not-carried", reason: "TSLA is not among the symbols this service carries" },
    { symbol: "ZZZZ", status: "unknown", reason: expect.stringMatching(/^no price for ZZZZ: unknown-symbol/) },
    { symbol: "ETH-USD", status: "known" },
  ]);
  const bad = await fetch(`${srv.url}/api/symbols?symbols=AAPL,${encodeURIComponent("a b")}`);
  expect(bad.status).toBe(400);
  expect(await bad.text()).toMatch(/invalid symbol "a b"/);
});

it("knows a custom symbol once a publisher has sent it, and keeps simulating it", async () => {
  expect((await checks("CUSTOM1"))[0]!.status).toBe("unknown");
  expect((await postTicks(srv.url, [{ symbol: "CUSTOM1", price: 42.5 }], "test-publish-token")).status).toBe(200);
  expect(await checks("CUSTOM1")).toEqual([{ symbol: "CUSTOM1", status: "known" }]);
  const res = await fetch(`${srv.url}/api/quotes?symbols=CUSTOM1`);
  expect(res.status).toBe(200);
  const c = await connectStomp(srv.url);
  const col = new Collector(c.client, "/topic/ticker.CUSTOM1");
  await col.waitFor(1);
  expect(col.ticks[0]!.price).toBe(42.5);
  expect(c.errors).toEqual([]);
  await c.disconnect();
});
