/**
 * Subscriber tokens and market-data entitlements in the real runtime, with unmodified
 * @stomp/stompjs over `ws` and sockjs-client: AUTH_MODE=token refusals, `sym` limits,
 * real-time versus delayed streams on every transport, token refresh and expiry,
 * publishing by `pub` tokens, and the HTTP API under the same policy.
 */
import { Client, type IFrame, type IMessage } from "@stomp/stompjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import { type Connected, type ConnectOptions, connectStomp, sleep, type TickBody } from "../support/stomp";
import { signToken, TEST_JWKS, TEST_SECRET, unsignedToken } from "../support/tokens";

const DELAY_MS = 3_000;
const COMMON = {
  TICK_INTERVAL_MS: "250",
  PUBLIC_DELAY_MS: String(DELAY_MS),
  AUTH_JWT_SECRET: TEST_SECRET,
  AUTH_JWKS: TEST_JWKS,
  PUBLISH_HOLD_MS: "0",
};
let tokenMode: DevServer;
let openMode: DevServer;

beforeAll(async () => {
  const started = await Promise.allSettled([
    startDevServer({ vars: { ...COMMON, AUTH_MODE: "token" } }),
    startDevServer({ vars: { ...COMMON, AUTH_MODE: "open" } }),
  ]);
  const [token, open] = started.map((s) => (s.status === "fulfilled" ? s.value : undefined));
  tokenMode = token!;
  openMode = open!;
  // One failed to start: the other is stopped too (afterAll), and the reason is reported.
  for (const s of started) if (s.status === "rejected") throw s.reason;
});
afterAll(async () => {
  await Promise.all([tokenMode?.stop(), openMode?.stop()]);
});

const bearer = (token: string) => ({ passcode: token });

/** A CONNECT that must be refused: the ERROR frame's message, and that the socket then closed. */
async function refusal(baseUrl: string, connectHeaders: Record<string, string>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let message: string | undefined;
    const client = new Client({
      webSocketFactory: () => new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws`, ["v12.stomp"]),
      connectHeaders,
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
      onConnect: () => reject(new Error("connected without a valid token")),
      onStompError: (frame) => (message = frame.headers.message),
      onWebSocketClose: () => {
        void client.deactivate();
        if (message === undefined) reject(new Error("closed without an ERROR frame"));
        else resolve(message);
      },
    });
    client.activate();
  });
}

interface Received {
  tick: TickBody & { delayed?: boolean; delayMs?: number };
  headers: IMessage["headers"];
  at: number;
}

/** Subscribes and records each MESSAGE with when it arrived. */
function watch(
  c: Connected,
  destination: string,
): { got: Received[]; until(n: number, timeoutMs?: number): Promise<Received[]> } {
  const got: Received[] = [];
  c.client.subscribe(destination, (m) =>
    got.push({ tick: JSON.parse(m.body) as Received["tick"], headers: m.headers, at: Date.now() }),
  );
  return {
    got,
    async until(n, timeoutMs = 15_000) {
      await expect
        .poll(() => got.length, { timeout: timeoutMs, message: `${n} messages on ${destination}` })
        .toBeGreaterThanOrEqual(n);
      return got;
    },
  };
}

function expectContiguous(got: Received[]): void {
  for (let i = 1; i < got.length; i++)
    expect(got[i]!.tick.seq, `message ${i} follows ${i - 1} with no gap`).toBe(got[i - 1]!.tick.seq + 1);
}

describe("AUTH_MODE=token", () => {
  it("refuses a CONNECT without a token, with a bad signature, alg:none, expired or not yet valid, with the reason", async () => {
    const now = Date.now();
    const cases: Array<[Record<string, string>, string]> = [
      [{}, "Authentication required"],
      [bearer(await signToken({ rt: true }, { secret: "not-the-secret" })), "Invalid token: bad signature"],
      [
        bearer(unsignedToken({ rt: true, exp: Math.floor(now / 1000) + 600 })),
        "Invalid token: algorithm none is not accepted",
      ],
      [bearer(await signToken({}, { now: now - 3_600_000 })), "Token expired"],
      [bearer(await signToken({ nbf: Math.floor(now / 1000) + 3_600 })), "Token not yet valid"],
      [{ Authorization: "Basic dXNlcjpwYXNz" }, "Invalid Authorization header"],
    ];
    for (const [headers, message] of cases)
      expect(await refusal(tokenMode.url, headers), JSON.stringify(headers)).toBe(message);
  });

  it("accepts a token in an Authorization: Bearer header of the CONNECT frame, HS256 or ES256 from the JWKS", async () => {
    for (const alg of ["HS256", "ES256"] as const) {
      const c = await connectStomp(tokenMode.url, undefined, {
        headers: { Authorization: `Bearer ${await signToken({ rt: true }, { alg })}` },
      });
      const live = watch(c, "/topic/ticker.AUH");
      await live.until(1);
      expect(live.got[0]!.tick.delayed).toBeUndefined();
      await c.disconnect();
    }
  });

  it("keeps a sym-limited token to its symbols and patterns", async () => {
    const token = await signToken({ rt: true, sym: ["AUS", "*-USD"] });
    const c = await connectStomp(tokenMode.url, undefined, { headers: bearer(token) });
    const [inside, pattern] = [watch(c, "/topic/ticker.AUS"), watch(c, "/topic/ticker.ETH-USD")];
    await Promise.all([inside.until(2), pattern.until(1)]);
    c.client.subscribe("/topic/ticker.AUT", () => {});
    await expect.poll(() => c.errors.length).toBe(1);
    expect(c.errors[0]!.headers.message).toBe("Not entitled");
    expect(c.errors[0]!.body).toBe("Your token does not cover AUT.");
    expect((await c.closed).code).toBe(1008);
  });

  it("gives rt:true live ticks and rt:false the delayed stream", async () => {
    const live = await connectStomp(tokenMode.url, undefined, { headers: bearer(await signToken({ rt: true })) });
    const delayed = await connectStomp(tokenMode.url, undefined, { headers: bearer(await signToken({ rt: false })) });
    const [l, d] = [watch(live, "/topic/ticker.AURT"), watch(delayed, "/topic/ticker.AURT")];
    await Promise.all([l.until(4), d.until(4, 20_000)]);
    for (const m of l.got.slice(1)) expect(m.at - m.tick.ts).toBeLessThan(DELAY_MS / 2);
    for (const m of d.got) {
      expect(m.at - m.tick.ts).toBeGreaterThanOrEqual(DELAY_MS);
      expect(m.tick).toMatchObject({ delayed: true, delayMs: DELAY_MS });
      expect(m.headers["x-delay-ms"]).toBe(String(DELAY_MS));
      expect(m.headers.destination).toBe("/topic/ticker.AURT");
    }
    expectContiguous(d.got);
    await Promise.all([live.disconnect(), delayed.disconnect()]);
  });

  it("keeps a connection past its first exp when a fresh token arrives on /app/token", async () => {
    const c = await connectStomp(tokenMode.url, undefined, {
      headers: bearer(await signToken({ sub: "u1", rt: true }, { expiresIn: 3 })),
    });
    const ticks = watch(c, "/topic/ticker.AURF");
    await ticks.until(1);
    const receipt = new Promise<void>((r) => c.client.watchForReceipt("fresh", () => r()));
    c.client.publish({
      destination: "/app/token",
      body: await signToken({ sub: "u1", rt: true }, { expiresIn: 60 }),
      headers: { receipt: "fresh" },
    });
    await receipt;
    await sleep(4_500); // past the first token's exp
    const before = ticks.got.length;
    await ticks.until(before + 2);
    expect(c.errors).toEqual([]);
    expect(c.client.connected).toBe(true);
    await c.disconnect();
  });

  it("ends a connection whose token expires without a fresh one: ERROR 'Token expired' within a second of exp", async () => {
    const token = await signToken({ rt: true }, { expiresIn: 2 });
    const exp = (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number }).exp * 1000;
    const c = await connectStomp(tokenMode.url, undefined, { headers: bearer(token) });
    let errorAt = 0;
    c.client.onStompError = (frame: IFrame) => {
      errorAt = Date.now();
      c.errors.push(frame);
    };
    watch(c, "/topic/ticker.AURX");
    expect((await c.closed).code).toBe(1008);
    expect(c.errors.map((e) => e.headers.message)).toEqual(["Token expired"]);
    expect(errorAt - exp).toBeGreaterThanOrEqual(0);
    expect(errorAt - exp).toBeLessThan(1_000);
  });

  it("lets a pub token publish over STOMP and HTTP, and nobody else", async () => {
    const publisher = await connectStomp(tokenMode.url, undefined, {
      headers: bearer(await signToken({ pub: true, rt: true })),
    });
    const viewer = await connectStomp(tokenMode.url, undefined, { headers: bearer(await signToken({ rt: true })) });
    const seen = watch(viewer, "/topic/ticker.AUP");
    await seen.until(1);
    publisher.client.publish({ destination: "/topic/ticker.AUP", body: JSON.stringify({ price: 4321.5 }) });
    await expect.poll(() => seen.got.some((m) => m.tick.price === 4321.5)).toBe(true);
    expect(
      (await postTicks(tokenMode.url, { symbol: "AUP", price: 4322.5 }, await signToken({ pub: true }))).status,
    ).toBe(200);
    await expect.poll(() => seen.got.some((m) => m.tick.price === 4322.5)).toBe(true);

    const denied = await postTicks(tokenMode.url, { symbol: "AUP", price: 1 }, await signToken({ rt: true }));
    expect(denied.status).toBe(403);
    expect(await denied.text()).toBe("this token does not grant publishing (pub)\n");
    viewer.client.publish({ destination: "/topic/ticker.AUP", body: JSON.stringify({ price: 1 }) });
    await expect.poll(() => viewer.errors.map((e) => e.headers.message)).toEqual(["Not authorized to publish"]);
    await publisher.disconnect();
  });

  it("guards the HTTP API: 401 without a token, 403 outside sym, live with rt", async () => {
    const noToken = await fetch(`${tokenMode.url}/api/quotes?symbols=AUQ`);
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get("www-authenticate")).toBe("Bearer");
    expect(await noToken.text()).toBe("a token is required: Authorization: Bearer <token>\n");
    const limited = await signToken({ rt: true, sym: ["AUQ"] });
    const outside = await fetch(`${tokenMode.url}/api/history/AUR?limit=5`, {
      headers: { authorization: `Bearer ${limited}` },
    });
    expect(outside.status).toBe(403);
    expect(await outside.text()).toBe("your token does not cover AUR\n");
    const inside = await fetch(`${tokenMode.url}/api/quotes?symbols=AUQ`, {
      headers: { authorization: `Bearer ${limited}` },
    });
    expect(inside.status).toBe(200);
    const [quote] = ((await inside.json()) as { quotes: Received["tick"][] }).quotes;
    expect(quote!.delayed).toBeUndefined();
    // /api/symbols tells a client what its token covers before it subscribes.
    const checks = await fetch(`${tokenMode.url}/api/symbols?symbols=AUQ,AUR`, {
      headers: { authorization: `Bearer ${limited}` },
    });
    expect(checks.status).toBe(200);
    expect(((await checks.json()) as { symbols: unknown[] }).symbols).toEqual([
      { symbol: "AUQ", status: "known" },
      { symbol: "AUR", status: "not-entitled", reason: "your token does not cover AUR" },
    ]);
    expect((await fetch(`${tokenMode.url}/api/symbols?symbols=AUQ`)).status).toBe(401);
  });
});

describe("AUTH_MODE=open with PUBLIC_DELAY_MS", () => {
  // One symbol per transport, each starting cold: its first tick is released 3 s after it is made.
  const transports: Array<[string, ConnectOptions["sockjs"], string]> = [
    ["WebSocket", undefined, "AUDW"],
    ["SockJS websocket", "websocket", "AUDSW"],
    ["SockJS xhr-streaming", "xhr-streaming", "AUDXS"],
    ["SockJS xhr-polling", "xhr-polling", "AUDXP"],
  ];
  it.each(transports)(
    "sends connections without a token delayed ticks, marked, in order, with no gap (%s)",
    async (_name, sockjs, symbol) => {
      const c = await connectStomp(openMode.url, undefined, { sockjs });
      const d = watch(c, `/topic/ticker.${symbol}`);
      await d.until(6, 20_000);
      for (const m of d.got) {
        expect(
          m.at - m.tick.ts,
          `seq ${m.tick.seq} arrived ${m.at - m.tick.ts} ms after its ts`,
        ).toBeGreaterThanOrEqual(DELAY_MS);
        expect(m.tick).toMatchObject({ symbol, delayed: true, delayMs: DELAY_MS });
        expect(m.headers["x-delay-ms"]).toBe(String(DELAY_MS));
      }
      expectContiguous(d.got);
      expect(c.errors).toEqual([]);
      await c.disconnect();
    },
  );

  it("gives a connection with an rt token live ticks in open mode", async () => {
    const c = await connectStomp(openMode.url, undefined, { headers: bearer(await signToken({ rt: true })) });
    const live = watch(c, "/topic/ticker.AUDW");
    await live.until(3);
    for (const m of live.got.slice(1)) expect(m.at - m.tick.ts).toBeLessThan(DELAY_MS / 2);
    expect(live.got.every((m) => m.tick.delayed === undefined)).toBe(true);
    await c.disconnect();
  });

  it("answers /api/quotes and /api/history delayed for the public and live for rt tokens", async () => {
    const now = Date.now();
    const pub = (await (await fetch(`${openMode.url}/api/quotes?symbols=AUDW`)).json()) as {
      quotes: Received["tick"][];
    };
    expect(pub.quotes[0]).toMatchObject({ delayed: true, delayMs: DELAY_MS });
    expect(pub.quotes[0]!.ts).toBeLessThanOrEqual(now - DELAY_MS);
    const history = (await (await fetch(`${openMode.url}/api/history/AUDW?limit=5`)).json()) as {
      ticks: Received["tick"][];
    };
    expect(history.ticks.length).toBeGreaterThan(0);
    for (const t of history.ticks) expect(t.ts).toBeLessThanOrEqual(now - DELAY_MS);
    const rt = await signToken({ rt: true });
    const live = (await (
      await fetch(`${openMode.url}/api/quotes?symbols=AUDW`, { headers: { authorization: `Bearer ${rt}` } })
    ).json()) as {
      quotes: Received["tick"][];
    };
    expect(live.quotes[0]!.delayed).toBeUndefined();
    expect(live.quotes[0]!.seq).toBeGreaterThan(pub.quotes[0]!.seq);
    const bad = await fetch(`${openMode.url}/api/quotes?symbols=AUDW`, { headers: { authorization: "Bearer x.y.z" } });
    expect(bad.status).toBe(401);
  });
});
