/**
 * STOMP over SockJS on the product path /sockjs/{SYMBOL}: unmodified sockjs-client and
 * @stomp/stompjs in Node over each transport, the origin allow-list on every SockJS
 * request, and sessions after a restart of the runtime.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type DevServer, startDevServer } from "../support/dev-server";
import { healthDetails } from "../support/health";
import { postTicks } from "../support/publish";
import { Collector, connectStomp, sleep } from "../support/stomp";

const VARS = {
  TICK_INTERVAL_MS: "250",
  HEARTBEAT_MS: "500",
  SOCKJS_DISCONNECT_DELAY_MS: "1000",
  ALLOWED_ORIGINS: "http://allowed.test,https://*.example.com",
};
const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-sockjs-"));
let srv: DevServer;
beforeAll(async () => {
  srv = await startDevServer({ vars: VARS, persistDir });
});
afterAll(async () => {
  await srv?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

const post = (url: string, body?: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers });

// Symbols per transport: a published tick pauses the simulated feed of its symbol.
describe.each([
  ["websocket", "WSA", "WSB"],
  ["xhr-streaming", "XSA", "XSB"],
  ["xhr-polling", "XPA", "XPB"],
] as const)("sockjs-client over %s", (transport, homeSymbol, otherSymbol) => {
  it("carries a STOMP session with subscriptions to two symbols and published ticks", async () => {
    const c = await connectStomp(srv.url, homeSymbol, { sockjs: transport });
    expect((c.client.webSocket as unknown as { transport: string }).transport).toBe(transport);
    expect(c.connectedFrame.headers.version).toBe("1.2");
    const home = new Collector(c.client, `/topic/ticker.${homeSymbol}`);
    const other = new Collector(c.client, `/topic/ticker.${otherSymbol}`);
    const [a, b] = await Promise.all([home.waitFor(3), other.waitFor(3)]);
    expect(a.every((t) => t.symbol === homeSymbol)).toBe(true);
    expect(b.every((t) => t.symbol === otherSymbol)).toBe(true);
    for (const ticks of [a, b]) {
      for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.seq).toBeGreaterThan(ticks[i - 1]!.seq);
    }
    expect(home.messages[0]!.headers.subscription).toBe(home.subscription.id);

    const price = 1234.5;
    expect((await postTicks(srv.url, { symbol: otherSymbol, price }, "test-publish-token")).status).toBe(200);
    await expect.poll(() => other.ticks.some((t) => t.price === price), { timeout: 5_000 }).toBe(true);
    expect(c.errors).toEqual([]);
    await c.disconnect();
  });
});

it("echoes STOMP heart-beats over SockJS, so the client keeps the connection", async () => {
  // 500 ms beats both ways: stompjs drops the connection after 1 s without server data.
  const c = await connectStomp(srv.url, "SJH", { sockjs: "xhr-polling", heartbeat: 500 });
  expect(c.connectedFrame.headers["heart-beat"]).toBe("500,500");
  let closed = false;
  void c.closed.then(() => (closed = true));
  await sleep(3_000);
  expect(closed).toBe(false);
  expect(c.client.connected).toBe(true);
  await c.disconnect();
});

it("answers a malformed STOMP frame with ERROR then a SockJS close, leaving other sessions alone", async () => {
  const bystander = await connectStomp(srv.url, "SJE", { sockjs: "xhr-streaming" });
  const ticks = new Collector(bystander.client, "/topic/ticker.SJE");
  await ticks.waitFor(1);

  const url = `${srv.url}/sockjs/SJE/000/bad-${Date.now()}`;
  expect(await (await post(`${url}/xhr`)).text()).toBe("o\n");
  expect((await post(`${url}/xhr_send`, JSON.stringify(["NOPE\n\n\u0000"]))).status).toBe(204);
  const error = await (await post(`${url}/xhr`)).text();
  expect(error).toMatch(/^a\["ERROR\\nmessage:/);
  expect(await (await post(`${url}/xhr`)).text()).toMatch(/^c\[\d{4},"/);

  const before = ticks.messages.length;
  await ticks.waitFor(before + 2);
  expect(bystander.errors).toEqual([]);
  await bystander.disconnect();
});

it("ends the STOMP session of an abandoned HTTP session, and its symbol stops ticking", async () => {
  const active = async () => (await healthDetails(srv.url)).activeSymbols;
  const url = `${srv.url}/sockjs/SJL/000/left-${Date.now()}`;
  expect(await (await post(`${url}/xhr`)).text()).toBe("o\n");
  const frames = [
    "CONNECT\naccept-version:1.2\nhost:x\n\n\u0000",
    "SUBSCRIBE\nid:0\ndestination:/topic/ticker.SJL\n\n\u0000",
  ];
  expect((await post(`${url}/xhr_send`, JSON.stringify(frames))).status).toBe(204);
  expect(await (await post(`${url}/xhr`)).text()).toMatch(/^a\["CONNECTED\\n/);
  await expect.poll(active, { timeout: 5_000 }).toContain("SJL");
  // No more polls: after the disconnect delay the session and its subscription are gone.
  await expect.poll(active, { timeout: 10_000, interval: 500 }).not.toContain("SJL");
  expect((await post(`${url}/xhr_send`, '["\\n"]')).status).toBe(404);
});

it("speaks raw STOMP on /sockjs/{SYMBOL}/websocket, like /ws", async () => {
  const ws = new WebSocket(`${srv.url.replace(/^http/, "ws")}/sockjs/SJR/websocket`, ["v12.stomp"]);
  const first = new Promise<string>((res, rej) => {
    ws.once("message", (d) => res(d.toString()));
    ws.once("error", rej);
  });
  await new Promise((res) => ws.once("open", res));
  ws.send("CONNECT\naccept-version:1.2\nhost:x\n\n\u0000");
  expect(await first).toMatch(/^CONNECTED\nversion:1\.2\n/);
  ws.close();
});

describe("origins", () => {
  const sessionUrl = () => `${srv.url}/sockjs/SJO/000/o-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;

  it("lets allowed origins in with credentialed CORS and turns others away with 403", async () => {
    for (const origin of ["http://allowed.test", "https://feeds.example.com"]) {
      const info = await fetch(`${srv.url}/sockjs/SJO/info`, { headers: { Origin: origin } });
      expect(info.status).toBe(200);
      expect(info.headers.get("access-control-allow-origin")).toBe(origin);
      expect(info.headers.get("access-control-allow-credentials")).toBe("true");
      expect(await (await post(`${sessionUrl()}/xhr`, undefined, { Origin: origin })).text()).toBe("o\n");
    }
    for (const origin of ["http://evil.test", "https://example.com.evil.test", "null"]) {
      const info = await fetch(`${srv.url}/sockjs/SJO/info`, { headers: { Origin: origin } });
      expect(info.status, origin).toBe(403);
      expect(await info.text()).toBe("Origin not allowed.");
      expect(
        (await fetch(`${srv.url}/sockjs/SJO/info`, { method: "OPTIONS", headers: { Origin: origin } })).status,
      ).toBe(403);
      expect((await post(`${sessionUrl()}/xhr`, undefined, { Origin: origin })).status).toBe(403);
      expect((await post(`${sessionUrl()}/xhr_send`, '["x"]', { Origin: origin })).status).toBe(403);
      expect((await fetch(`${sessionUrl()}/eventsource`, { headers: { Origin: origin } })).status).toBe(403);
    }
  });

  it("refuses websocket upgrades from other origins on both websocket endpoints", async () => {
    const statusOf = (path: string, origin: string) =>
      new Promise<number>((res, rej) => {
        const ws = new WebSocket(`${srv.url.replace(/^http/, "ws")}${path}`, { headers: { Origin: origin } });
        ws.once("unexpected-response", (_req, r) => res(r.statusCode ?? 0));
        ws.once("open", () => {
          ws.close();
          res(101);
        });
        ws.once("error", rej);
      });
    expect(await statusOf("/sockjs/SJO/000/w/websocket", "http://evil.test")).toBe(403);
    expect(await statusOf("/sockjs/SJO/websocket", "http://evil.test")).toBe(403);
    expect(await statusOf("/sockjs/SJO/000/w/websocket", "http://allowed.test")).toBe(101);
  });

  it("limits who may frame the iframe page to the allow-list", async () => {
    const res = await fetch(`${srv.url}/sockjs/SJO/iframe.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(
      "frame-ancestors 'self' http://allowed.test https://*.example.com",
    );
  });
});

it("keeps the protocol-suite services off unless SOCKJS_TEST_SERVICES is set", async () => {
  const res = await fetch(`${srv.url}/sockjs-test/echo/info`);
  expect(res.status).toBe(404);
  expect(await res.text()).toMatch(/SOCKJS_TEST_SERVICES=true/);
});

it("rejects a bad symbol with 400", async () => {
  const res = await fetch(`${srv.url}/sockjs/${encodeURIComponent("no good")}/info`);
  expect(res.status).toBe(400);
});

it("answers 404 for an HTTP session after the object restarted, and a new session opens", async () => {
  const url = `${srv.url}/sockjs/SJX/000/restart-${Date.now()}`;
  expect(await (await post(`${url}/xhr`)).text()).toBe("o\n");
  expect((await post(`${url}/xhr_send`, '["\\n"]')).status).toBe(204);
  const port = srv.port;
  await srv.stop();
  srv = await startDevServer({ vars: VARS, persistDir, port });
  expect((await post(`${url}/xhr_send`, '["\\n"]')).status).toBe(404);
  expect(await (await post(`${url}/xhr`)).text()).toBe("o\n");
});
