/**
 * Limits that keep one client, or the public, from growing the service without bound, on
 * bare workerd: the symbols carried (SYMBOLS), active symbols, sockets and SockJS HTTP
 * sessions per client address, guessing the publish token, and what /healthz tells the public.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { healthDetails } from "../support/health";
import { postTicks } from "../support/publish";
import { bodyOf, RawStomp } from "../support/raw-stomp";
import { Collector, connectStomp, sleep } from "../support/stomp";

let srv: DevServer;
beforeAll(async () => {
  srv = await startDevServer({
    runtime: "workerd",
    vars: {
      HUB_SHARDS: "1",
      SYMBOLS: "AAPL,MSFT,*-USD,LIM*",
      MAX_ACTIVE_SYMBOLS: "3",
      MAX_CONNECTIONS_PER_ADDRESS: "5",
      INTEREST_DEBOUNCE_MS: "100",
      // The test plays a proxy in front that says who each client is.
      TRUSTED_PROXY: "CF-Connecting-IP",
    },
  });
});
afterAll(async () => srv?.stop());

describe("SYMBOLS", () => {
  it("serves the listed symbols and patterns, and refuses others everywhere with the reason", async () => {
    expect((await fetch(`${srv.url}/api/quotes?symbols=AAPL,BTC-USD`)).status).toBe(200);
    const quote = await fetch(`${srv.url}/api/quotes?symbols=AAPL,TSLA`);
    expect(quote.status).toBe(404);
    expect(await quote.text()).toBe("TSLA is not among the symbols this service carries\n");
    expect((await fetch(`${srv.url}/api/history/TSLA`)).status).toBe(404);
    expect((await postTicks(srv.url, { symbol: "TSLA", price: 1 }, "test-publish-token")).status).toBe(404);
    const raw = await RawStomp.open(srv.url);
    await raw.connect();
    raw.send("SUBSCRIBE\nid:1\ndestination:/topic/ticker.TSLA\n\n\0");
    const error = await raw.next("ERROR");
    expect(error.headers).toContainEqual(["message", "Symbol not carried"]);
    await raw.waitClosed();
  });
});

describe("MAX_ACTIVE_SYMBOLS", () => {
  it("refuses a symbol past the cap with the reason, and takes it once another is given up", async () => {
    const first = await connectStomp(srv.url);
    const cols = ["LIM1", "LIM2", "LIM3"].map((s) => new Collector(first.client, `/topic/ticker.${s}`));
    await Promise.all(cols.map((c) => c.waitFor(1)));
    const second = await connectStomp(srv.url);
    second.client.subscribe("/topic/ticker.LIM4", () => {});
    await expect.poll(() => second.errors.length, { timeout: 5_000 }).toBe(1);
    expect(second.errors[0]!.headers.message).toBe("No room for LIM4");
    expect(second.errors[0]!.headers["x-error-code"]).toBe("too-many-active-symbols");
    expect(second.errors[0]!.body).toMatch(/MAX_ACTIVE_SYMBOLS=3/);
    await first.disconnect();
    await expect.poll(async () => (await healthDetails(srv.url)).activeSymbols.length, { timeout: 5_000 }).toBe(0);
    const third = await connectStomp(srv.url);
    await new Collector(third.client, "/topic/ticker.LIM4").waitFor(1);
    await third.disconnect();
  });
});

// A proxy in front (Cloudflare's edge, or one a self-hoster runs: TRUSTED_PROXY) says who the client is.
const CLIENT = { "CF-Connecting-IP": "198.51.100.7" };

describe("MAX_CONNECTIONS_PER_ADDRESS", () => {
  it("refuses the sixth socket or SockJS HTTP session from one address with 429", async () => {
    await sleep(500); // sockets of the tests above are gone
    const open = () => RawStomp.open(srv.url, undefined, undefined, CLIENT);
    const sockets = await Promise.all(Array.from({ length: 5 }, open));
    await expect(open()).rejects.toThrow(/HTTP 429/);
    const xhr = (id: string) => fetch(`${srv.url}/sockjs/000/${id}/xhr`, { method: "POST", headers: CLIENT });
    const refused = await xhr(`cap-${Date.now()}`);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toBe("too many connections from this address (at most 5)\n");
    for (const s of sockets) s.close();
    await sleep(500);
    const again = await open();
    again.close();
    expect(await (await xhr(`cap-ok-${Date.now()}`)).text()).toBe("o\n");
  });
});

describe("/healthz", () => {
  it("tells anyone how many symbols are active, and only the operator which", async () => {
    const open = (await (await fetch(`${srv.url}/healthz`)).json()) as Record<string, unknown>;
    expect(typeof open.activeSymbols).toBe("number");
    expect(open.feedStatus).toBeUndefined();
    expect(Array.isArray((await healthDetails(srv.url)).activeSymbols)).toBe(true);
    expect((await fetch(`${srv.url}/healthz`, { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
  });
});

// Last: it locks this address out of publishing for a minute.
describe("guessing the publish token", () => {
  it("slows an address down after ten wrong tokens, counted over HTTP and STOMP together", async () => {
    const publish = (token: string) =>
      fetch(`${srv.url}/api/ticks`, {
        method: "POST",
        headers: { ...CLIENT, authorization: `Bearer ${token}` },
        body: JSON.stringify({ symbol: "AAPL", price: 1 }),
      });
    for (let i = 0; i < 5; i++) expect((await publish(`guess-${i}`)).status).toBe(401);
    for (let i = 0; i < 5; i++) {
      const raw = await RawStomp.open(srv.url, undefined, undefined, CLIENT);
      raw.send(`CONNECT\naccept-version:1.2\npasscode:guess-${i}\n\n\0`);
      expect(bodyOf(await raw.next("ERROR"))).toMatch(/^Bad credentials: neither a token nor the publish token/);
      await raw.waitClosed();
    }
    const locked = await publish("test-publish-token");
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    const raw = await RawStomp.open(srv.url, undefined, undefined, CLIENT);
    raw.send("CONNECT\naccept-version:1.2\npasscode:test-publish-token\n\n\0");
    const error = await raw.next("ERROR");
    expect(error.headers).toContainEqual(["message", "Too many failed attempts"]);
  });
});
