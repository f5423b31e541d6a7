/**
 * What one anonymous client can take from everyone else, and what a client cannot fake:
 *  - one address with 10 sockets cannot take more than its share of MAX_ACTIVE_SYMBOLS,
 *    while another client's new symbol still gets prices;
 *  - the market-data API answers one address at most API_REQUESTS_PER_SECOND (429 with
 *    Retry-After and a stable code), while another address is served;
 *  - failed credentials count once per address however they are spread over HTTP, /metrics
 *    and STOMP;
 *  - without a proxy the operator named (TRUSTED_PROXY), a client that makes up a new
 *    CF-Connecting-IP for every guess is throttled all the same (bare workerd, `npm start`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { header } from "../../worker/protocol/stomp/frame";
import { type DevServer, startDevServer } from "../support/dev-server";
import { healthDetails } from "../support/health";
import { bodyOf, RawStomp } from "../support/raw-stomp";
import { sleep } from "../support/stomp";

const ATTACKER = { "X-Forwarded-For": "198.51.100.66" };
const VIEWER = { "X-Forwarded-For": "203.0.113.5" };
const MAX_ACTIVE = 60;
const SHARE = 20;

describe("behind a proxy the operator named (TRUSTED_PROXY)", () => {
  let srv: DevServer;
  beforeAll(async () => {
    srv = await startDevServer({
      vars: {
        // The test plays a proxy that appends the client's address, on this machine.
        TRUSTED_PROXY: "X-Forwarded-For from 127.0.0.1",
        MAX_ACTIVE_SYMBOLS: String(MAX_ACTIVE),
        MAX_ACTIVE_SYMBOLS_PER_ADDRESS: String(SHARE),
        API_REQUESTS_PER_SECOND: "5",
        HUB_SHARDS: "2",
        INTEREST_DEBOUNCE_MS: "100",
      },
    });
  });
  afterAll(async () => srv?.stop());

  it("an anonymous client with 10 sockets takes its share of active symbols, and another client's new symbol still gets prices", async () => {
    const sockets: RawStomp[] = [];
    let priced = 0;
    let refused = 0;
    for (let s = 0; s < 10; s++) {
      const raw = await RawStomp.open(srv.url, undefined, undefined, ATTACKER);
      sockets.push(raw);
      await raw.connect();
      // Ten new symbols a socket, one at a time: each is priced, or refused with an ERROR that ends the socket.
      for (let i = 0; i < 10 && !raw.closed; i++) {
        raw.send(`SUBSCRIBE\nid:${i}\ndestination:/topic/ticker.HOG${s}X${i}\n\n\0`);
        const answer = await raw.next();
        if (answer.command === "MESSAGE") priced++;
        else {
          expect(answer.command).toBe("ERROR");
          expect(header(answer, "x-error-code")).toBe("too-many-active-symbols");
          expect(bodyOf(answer)).toMatch(/MAX_ACTIVE_SYMBOLS_PER_ADDRESS=20/);
          refused++;
          await raw.waitClosed();
        }
      }
    }
    expect(priced).toBe(SHARE);
    expect(refused).toBeGreaterThan(0);
    expect((await healthDetails(srv.url)).activeSymbols.filter((s) => s.startsWith("HOG"))).toHaveLength(SHARE);

    // Someone else's new symbol still fits, and ticks.
    const viewer = await RawStomp.open(srv.url, undefined, undefined, VIEWER);
    await viewer.connect();
    viewer.send("SUBSCRIBE\nid:1\ndestination:/topic/ticker.FAIRNEW\n\n\0");
    expect((await viewer.next("MESSAGE")).command).toBe("MESSAGE");
    expect((await viewer.next("MESSAGE")).command).toBe("MESSAGE");
    // A symbol someone already watches costs nobody a share: the attacker may still join it.
    const joiner = await RawStomp.open(srv.url, undefined, undefined, ATTACKER);
    await joiner.connect();
    joiner.send("SUBSCRIBE\nid:1\ndestination:/topic/ticker.FAIRNEW\n\n\0");
    expect((await joiner.next()).command).toBe("MESSAGE");

    // Once the attacker lets go, its share is free again.
    for (const raw of [...sockets, joiner]) raw.close();
    await expect
      .poll(async () => (await healthDetails(srv.url)).activeSymbols.filter((s) => s.startsWith("HOG")).length, {
        timeout: 10_000,
      })
      .toBe(0);
    const again = await RawStomp.open(srv.url, undefined, undefined, ATTACKER);
    await again.connect();
    again.send("SUBSCRIBE\nid:1\ndestination:/topic/ticker.HOGAGAIN\n\n\0");
    expect((await again.next()).command).toBe("MESSAGE");
    again.close();
    viewer.close();
  });

  it("answers one address's flood of market-data requests with 429 and Retry-After, and serves another", async () => {
    await sleep(3_000); // the burst of the test above is back
    const ask = (headers: Record<string, string>) => fetch(`${srv.url}/api/quotes?symbols=AAPL`, { headers });
    const answers = await Promise.all(Array.from({ length: 40 }, () => ask(ATTACKER)));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(15);
    expect(limited[0]!.headers.get("x-error-code")).toBe("too-many-requests");
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited[0]!.text()).toMatch(/^more than 5 market-data requests a second from this address\n$/);
    expect((await ask(VIEWER)).status).toBe(200);
    await Promise.all(answers.map((r) => r.arrayBuffer().catch(() => undefined)));
  });

  it("counts failed credentials once per address, whether over HTTP, /metrics or STOMP", async () => {
    const guesser = { "X-Forwarded-For": "192.0.2.77" };
    const publish = (token: string) =>
      fetch(`${srv.url}/api/ticks`, {
        method: "POST",
        headers: { ...guesser, authorization: `Bearer ${token}` },
        body: JSON.stringify({ symbol: "AAPL", price: 1 }),
      });
    const metrics = (token: string) =>
      fetch(`${srv.url}/metrics`, { headers: { ...guesser, authorization: `Bearer ${token}` } });
    for (let i = 0; i < 4; i++) expect((await publish(`guess-${i}`)).status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await metrics(`guess-${i}`)).status).toBe(401);
    for (let i = 0; i < 3; i++) {
      const raw = await RawStomp.open(srv.url, undefined, undefined, guesser);
      raw.send(`CONNECT\naccept-version:1.2\npasscode:guess-${i}\n\n\0`);
      expect(bodyOf(await raw.next("ERROR"))).toMatch(/^Bad credentials/);
      await raw.waitClosed();
    }
    // Ten in all: every check refuses this address now, the right credentials too.
    expect((await publish("test-publish-token")).status).toBe(429);
    expect((await metrics("test-metrics-token")).status).toBe(429);
    const raw = await RawStomp.open(srv.url, undefined, undefined, guesser);
    raw.send("CONNECT\naccept-version:1.2\npasscode:test-publish-token\n\n\0");
    expect(header(await raw.next("ERROR"), "message")).toBe("Too many failed attempts");
    // Another address is not affected.
    expect(
      (await fetch(`${srv.url}/metrics`, { headers: { authorization: "Bearer test-metrics-token" } })).status,
    ).toBe(200);
  });
});

describe("on bare workerd with no proxy named", () => {
  let srv: DevServer;
  beforeAll(async () => {
    srv = await startDevServer({ runtime: "workerd" });
  });
  afterAll(async () => srv?.stop());

  it("does not let a client escape the failure throttle by making up a new CF-Connecting-IP each time", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const res = await fetch(`${srv.url}/api/ticks`, {
        method: "POST",
        headers: { "CF-Connecting-IP": `198.51.100.${i + 1}`, authorization: `Bearer guess-${i}` },
        body: JSON.stringify({ symbol: "AAPL", price: 1 }),
      });
      statuses.push(res.status);
    }
    // Ten failures from "nobody knows where" in all, then refused.
    expect(statuses.slice(0, 9)).toEqual(Array(9).fill(401));
    expect(statuses.slice(10)).toEqual(Array(5).fill(429));
    // The real publisher is never locked out by strangers where no address is known.
    const res = await fetch(`${srv.url}/api/ticks`, {
      method: "POST",
      headers: { "CF-Connecting-IP": "198.51.100.200", authorization: "Bearer test-publish-token" },
      body: JSON.stringify({ symbol: "AAPL", price: 1 }),
    });
    expect(res.status).toBe(200);
  });
});
