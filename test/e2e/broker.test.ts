import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { header } from "../../worker/protocol/stomp/frame";
import { type DevServer, startDevServer } from "../support/dev-server";
import { healthDetails } from "../support/health";
import { postTicks } from "../support/publish";
import { bodyOf, RawStomp } from "../support/raw-stomp";
import { Collector, connectStomp, sleep, type TickBody } from "../support/stomp";

const TOKEN = "test-publish-token";
let srv: DevServer;

beforeAll(async () => {
  srv = await startDevServer({
    vars: {
      TICK_INTERVAL_MS: "200",
      PUBLISH_HOLD_MS: "3000",
      MAX_SUBSCRIPTIONS: "5",
      MAX_FRAME_BYTES: "4096",
      ALLOWED_ORIGINS: "https://allowed.example, https://*.widgets.example",
    },
  });
});
afterAll(async () => srv?.stop());

async function quote(symbol: string): Promise<TickBody> {
  const res = await fetch(`${srv.url}/api/quotes?symbols=${symbol}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { quotes: TickBody[] }).quotes[0]!;
}

function publish(ticks: unknown, token: string | null = TOKEN): Promise<Response> {
  return postTicks(srv.url, ticks, token);
}

function expectIncreasingSeq(ticks: TickBody[]): void {
  for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.seq).toBeGreaterThan(ticks[i - 1]!.seq);
}

describe("STOMP over /ws/{SYMBOL} with @stomp/stompjs", () => {
  it("connects with STOMP 1.2 and reports version, heart-beat, server and session", async () => {
    const c = await connectStomp(srv.url, "AAPL", { heartbeat: 4000 });
    const h = c.connectedFrame.headers;
    expect(h.version).toBe("1.2");
    expect(h["heart-beat"]).toBe("10000,10000");
    expect(h.server).toMatch(/^edge-ticker\//);
    expect(h.session).toMatch(/^[0-9a-f-]{36}$/);
    await c.disconnect();
  });

  it("multiplexes symbols on one connection: snapshot first, then live ticks with increasing seq", async () => {
    const before = await quote("SNAPA"); // creates the symbol's first tick without anyone subscribed
    const c = await connectStomp(srv.url, "SNAPA");
    const home = new Collector(c.client, "/topic/ticker.SNAPA");
    const remote = new Collector(c.client, "/topic/ticker.BTC-USD");
    const index = new Collector(c.client, "/topic/ticker.^GSPC");
    const [h, r, i] = await Promise.all([home.waitFor(6), remote.waitFor(6), index.waitFor(6)]);
    expect(h[0]!.seq).toBe(before.seq);
    expect(h[0]!.price).toBe(before.price);
    for (const [ticks, symbol] of [
      [h, "SNAPA"],
      [r, "BTC-USD"],
      [i, "^GSPC"],
    ] as const) {
      expect(ticks.every((t) => t.symbol === symbol)).toBe(true);
      expectIncreasingSeq(ticks);
      for (const t of ticks) {
        expect(t.source).toBe("sim");
        expect(t.price).toBeGreaterThan(0);
        expect(typeof t.change).toBe("number");
        expect(typeof t.changePercent).toBe("number");
        expect(Math.abs(t.ts - Date.now())).toBeLessThan(60_000);
      }
    }
    const m = home.messages[1]!;
    expect(m.headers.destination).toBe("/topic/ticker.SNAPA");
    expect(m.headers.subscription).toBe(home.subscription.id);
    expect(m.headers["content-type"]).toBe("application/json");
    expect(Number(m.headers["content-length"])).toBe(Buffer.byteLength(m.body));
    expect(m.headers["message-id"]).toBe(`SNAPA-${JSON.parse(m.body).seq}`);
    await c.disconnect();
  });

  it("delivers the same ticks to subscribers held by different objects", async () => {
    const [a, b] = await Promise.all([connectStomp(srv.url, "FANA"), connectStomp(srv.url, "FANB")]);
    const viaHome = new Collector(a.client, "/topic/ticker.FANA");
    const viaOther = new Collector(b.client, "/topic/ticker.FANA");
    await Promise.all([viaHome.waitFor(5), viaOther.waitFor(5)]);
    await sleep(300);
    const seqA = new Set(viaHome.ticks.map((t) => t.seq));
    const common = viaOther.ticks.filter((t) => seqA.has(t.seq));
    expect(common.length).toBeGreaterThanOrEqual(3);
    for (const t of common) expect(t.price).toBe(viaHome.ticks.find((x) => x.seq === t.seq)!.price);
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it("sends RECEIPT for frames with a receipt header, and UNSUBSCRIBE stops delivery", async () => {
    const c = await connectStomp(srv.url, "UNSA");
    const receipt = new Promise<string>((res) =>
      c.client.watchForReceipt("sub-r1", (f) => res(f.headers["receipt-id"]!)),
    );
    const col = new Collector(c.client, "/topic/ticker.UNSB", { receipt: "sub-r1" });
    expect(await receipt).toBe("sub-r1");
    await col.waitFor(3);
    const unsubscribed = new Promise<void>((res) => c.client.watchForReceipt("unsub-r1", () => res()));
    col.subscription.unsubscribe({ receipt: "unsub-r1" });
    await unsubscribed;
    const count = col.messages.length;
    await sleep(1000);
    expect(col.messages.length).toBe(count);
    await c.disconnect();
  });
});

describe("publishing", () => {
  it("POST /api/ticks with the token broadcasts; the server fills seq, ts and change", async () => {
    const c = await connectStomp(srv.url, "PUBA");
    const col = new Collector(c.client, "/topic/ticker.PUBA");
    const [snapshot] = await col.waitFor(1);
    const res = await publish({ symbol: "puba", price: 4242.5, volume: 10 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { published: number; ticks: TickBody[] };
    expect(body.published).toBe(1);
    const deadline = Date.now() + 5000;
    while (!col.ticks.some((t) => t.price === 4242.5) && Date.now() < deadline) await sleep(50);
    const tick = col.ticks.find((t) => t.price === 4242.5)!;
    expect(tick).toBeDefined();
    expect(tick.source).toBe("publish");
    expect(tick.seq).toBeGreaterThan(snapshot!.seq);
    expect(tick.seq).toBe(body.ticks[0]!.seq);
    expect(tick.change).toBeCloseTo(4242.5 - (tick.prevClose as number), 6);
    // Published prices hold the simulator off for PUBLISH_HOLD_MS.
    await sleep(600);
    expect(col.ticks.at(-1)!.price).toBe(4242.5);
    await c.disconnect();
  });

  it("rejects publishing without a token or with a wrong one (401) and bad ticks (400), publishing nothing", async () => {
    const before = await quote("PUBB");
    const none = await publish({ symbol: "PUBB", price: 1 }, null);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    const wrong = await publish({ symbol: "PUBB", price: 1 }, "wrong");
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toBe("Bad credentials: neither a token nor the publish token\n");
    const bad = await publish([
      { symbol: "PUBB", price: 2 },
      { symbol: "PUBB", price: -1 },
    ]);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe("tick 1: price must be a number from 1e-9 to 1000000000\n");
    const after = await quote("PUBB");
    expect(after.seq).toBe(before.seq);
    expect([1, 2]).not.toContain(after.price);
  });

  it("lets a STOMP client that logged in with the token SEND ticks, and refuses others", async () => {
    const pub = await connectStomp(srv.url, "SENDA", { headers: { login: "publisher", passcode: TOKEN } });
    const sub = await connectStomp(srv.url, "SENDB");
    const col = new Collector(sub.client, "/topic/ticker.SENDC");
    await col.waitFor(1);
    const sent = new Promise<void>((res) => pub.client.watchForReceipt("send-1", () => res()));
    pub.client.publish({
      destination: "/topic/ticker.SENDC",
      body: JSON.stringify({ price: 77.7 }),
      headers: { receipt: "send-1" },
    });
    await sent;
    const deadline = Date.now() + 5000;
    while (!col.ticks.some((t) => t.price === 77.7) && Date.now() < deadline) await sleep(50);
    expect(col.ticks.some((t) => t.price === 77.7 && t.source === "publish")).toBe(true);

    const plain = await connectStomp(srv.url, "SENDB");
    plain.client.publish({ destination: "/topic/ticker.SENDC", body: JSON.stringify({ price: 1.5 }) });
    expect((await plain.closed).code).toBeGreaterThan(1000);
    expect(plain.errors[0]?.headers.message).toBe("Not authorized to publish");
    await expect(connectStomp(srv.url, "SENDB", { headers: { passcode: "wrong" } })).rejects.toThrow(/Bad credentials/);
    expect(col.ticks.some((t) => t.price === 1.5)).toBe(false);
    await Promise.all([pub.disconnect(), sub.disconnect()]);
  });
});

describe("HTTP routes", () => {
  it("serves /healthz and /api/quotes, and rejects bad input with a 4xx and one line", async () => {
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    const q = await fetch(`${srv.url}/api/quotes?symbols=aapl,MSFT,BRK.B,EURUSD=X`);
    const { quotes } = (await q.json()) as { quotes: TickBody[] };
    expect(quotes.map((t) => t.symbol)).toEqual(["AAPL", "MSFT", "BRK.B", "EURUSD=X"]);
    const cases: Array<[string, number, RegExp]> = [
      ["/api/quotes", 400, /symbols query parameter is required/],
      ["/api/quotes?symbols=AAPL,bad$", 400, /invalid symbol "bad\$"/],
      ["/ws/THIS-SYMBOL-IS-TOO-LONG", 400, /invalid symbol/],
      ["/ws/AAPL", 426, /Upgrade: websocket/],
      ["/nope", 404, /no route for GET \/nope/],
    ];
    for (const [path, status, reason] of cases) {
      const res = await fetch(srv.url + path);
      expect(res.status, path).toBe(status);
      const text = await res.text();
      expect(text, path).toMatch(reason);
      expect(text.trim().includes("\n"), path).toBe(false);
    }
  });

  it("checks the Origin before the upgrade: 403 for browsers not allowed", async () => {
    const upgrade = (origin?: string) =>
      new Promise<number>((res, rej) => {
        const ws = new WebSocket(`${srv.url.replace("http", "ws")}/ws/ORIG`, ["v12.stomp"], {
          headers: origin ? { Origin: origin } : {},
        });
        ws.once("open", () => {
          ws.close();
          res(101);
        });
        ws.once("unexpected-response", (_req, resp) => res(resp.statusCode ?? 0));
        ws.once("error", rej);
      });
    expect(await upgrade("https://evil.example")).toBe(403);
    expect(await upgrade("https://widgets.example")).toBe(403); // wildcard covers subdomains only
    expect(await upgrade("null")).toBe(403);
    expect(await upgrade("https://allowed.example")).toBe(101);
    expect(await upgrade("https://shop.widgets.example")).toBe(101);
    expect(await upgrade(srv.url)).toBe(101); // same origin: the product's own page
    expect(await upgrade()).toBe(101); // server-side clients send no Origin
  });

  it("reports active symbols and sweeps them on the cron trigger", async () => {
    const c = await connectStomp(srv.url, "CRONA");
    const col = new Collector(c.client, "/topic/ticker.CRONA");
    await col.waitFor(2);
    // Anyone gets the count; the symbols take the operator's token.
    expect(
      ((await (await fetch(`${srv.url}/healthz`)).json()) as { activeSymbols: number }).activeSymbols,
    ).toBeGreaterThanOrEqual(1);
    const health = await healthDetails(srv.url);
    expect(health.activeSymbols).toContain("CRONA");
    const from = srv.logs().length;
    await srv.triggerCron();
    const line = await srv.waitForLog(/\{"event":"sweep","active":\d+,"rearmed":(true|false)\}/, 10_000, from);
    expect(JSON.parse(line).active).toBeGreaterThanOrEqual(1);
    await c.disconnect();
  });
});

describe("bad input gets an ERROR frame and a close, and touches nothing else", () => {
  let bystander: Awaited<ReturnType<typeof connectStomp>>;
  let watched: Collector;

  beforeAll(async () => {
    bystander = await connectStomp(srv.url, "BAD");
    watched = new Collector(bystander.client, "/topic/ticker.BAD");
    await watched.waitFor(1);
  });
  afterAll(async () => {
    // The good connection saw no error and kept receiving in order the whole time.
    const before = watched.messages.length;
    await watched.waitFor(before + 3);
    expect(bystander.errors).toEqual([]);
    expectIncreasingSeq(watched.ticks);
    await bystander.disconnect();
  });

  const cases: Array<{
    name: string;
    setup?: string[];
    send: string | string[];
    message: string;
    receipt?: string;
    connect?: boolean;
  }> = [
    { name: "garbage", connect: false, send: "hello there, this is not STOMP\n\n\0", message: "Unknown command" },
    { name: "unknown command", send: "FROB\nreceipt:r-frob\n\n\0", message: "Unknown command" },
    {
      name: "a frame before CONNECT",
      connect: false,
      send: "SUBSCRIBE\nid:1\ndestination:/topic/ticker.BAD\nreceipt:r1\n\n\0",
      message: "Not connected",
      receipt: "r1",
    },
    {
      name: "SUBSCRIBE without id",
      send: "SUBSCRIBE\ndestination:/topic/ticker.BAD\nreceipt:r2\n\n\0",
      message: "Missing header: id",
      receipt: "r2",
    },
    {
      name: "a duplicate subscription id",
      setup: ["SUBSCRIBE\nid:dup\ndestination:/topic/ticker.BAD\n\n\0"],
      send: "SUBSCRIBE\nid:dup\ndestination:/topic/ticker.OTHER\nreceipt:r3\n\n\0",
      message: "Duplicate subscription id",
      receipt: "r3",
    },
    {
      name: "an unknown destination",
      send: "SUBSCRIBE\nid:1\ndestination:/queue/orders\n\n\0",
      message: "Unknown destination",
    },
    {
      name: "a malformed symbol",
      send: "SUBSCRIBE\nid:1\ndestination:/topic/ticker.no$such\n\n\0",
      message: "Unknown destination",
    },
    {
      name: "a frame over the size limit",
      send: `SEND\ndestination:/topic/ticker.BAD\n\n${"x".repeat(5000)}\0`,
      message: "Frame too large",
    },
    {
      name: "too many subscriptions",
      setup: [1, 2, 3, 4, 5].map((i) => `SUBSCRIBE\nid:s${i}\ndestination:/topic/ticker.BAD\n\n\0`),
      send: "SUBSCRIBE\nid:s6\ndestination:/topic/ticker.BAD\nreceipt:r6\n\n\0",
      message: "Too many subscriptions",
      receipt: "r6",
    },
    {
      name: "SEND without publisher login",
      send: 'SEND\ndestination:/topic/ticker.BAD\nreceipt:r7\n\n{"price":1}\0',
      message: "Not authorized to publish",
      receipt: "r7",
    },
    {
      name: "an undefined header escape",
      send: "SUBSCRIBE\nid:a\\tb\ndestination:/topic/ticker.BAD\n\n\0",
      message: "Invalid header escape",
    },
    {
      name: "an unsupported version",
      connect: false,
      send: "CONNECT\naccept-version:2.0\n\n\0",
      message: "Unsupported protocol version",
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name}`, async () => {
      const raw = await RawStomp.open(srv.url, "BAD");
      if (c.connect !== false) await raw.connect();
      for (const s of c.setup ?? []) raw.send(s);
      for (const s of [c.send].flat()) raw.send(s);
      const error = await raw.next("ERROR");
      expect(header(error, "message")).toBe(c.message);
      expect(bodyOf(error).length).toBeGreaterThan(0);
      expect(header(error, "receipt-id")).toBe(c.receipt);
      const closed = await raw.waitClosed();
      expect(closed.code).not.toBe(1000);
    });
  }
});

describe("protocol details", () => {
  it("negotiates STOMP 1.0 and 1.1 and escapes headers per version", async () => {
    const v10 = await RawStomp.open(srv.url, "VER");
    const c10 = await v10.connect("1.0");
    expect(header(c10, "version")).toBe("1.0");
    v10.send("SUBSCRIBE\ndestination:/topic/ticker.VER\n\n\0"); // 1.0: id optional
    const m10 = await v10.next("MESSAGE");
    expect(header(m10, "destination")).toBe("/topic/ticker.VER");

    const v11 = await RawStomp.open(srv.url, "VER");
    expect(header(await v11.connect("1.0,1.1"), "version")).toBe("1.1");
    v11.send("SUBSCRIBE\nid:a\\cb\\\\c\ndestination:/topic/ticker.VER\n\n\0");
    await v11.next("MESSAGE");
    expect(v11.raw.find((r) => r.startsWith("MESSAGE"))).toContain("subscription:a\\cb\\\\c\n");

    const v12 = await RawStomp.open(srv.url, "VER");
    await v12.connect("1.1,1.2");
    v12.send("SUBSCRIBE\nid:x\\ry\ndestination:/topic/ticker.VER\nack:client\n\n\0");
    const m12 = await v12.next("MESSAGE");
    expect(header(m12, "subscription")).toBe("x\ry");
    expect(header(m12, "ack")).toBe(header(m12, "message-id"));
    v12.send(`ACK\nid:${header(m12, "ack")}\nreceipt:ack-1\n\n\0`);
    expect(header(await v12.next("RECEIPT"), "receipt-id")).toBe("ack-1");
    for (const s of [v10, v11, v12]) s.close();
  });

  it("handles frames split over messages and several frames in one message", async () => {
    const raw = await RawStomp.open(srv.url, "SPLIT");
    for (const part of ["CONN", "ECT\naccept-version:1.2\nhos", "t:x\n\n", "\0"]) raw.send(part);
    await raw.next("CONNECTED");
    raw.send(
      "SUBSCRIBE\nid:1\ndestination:/topic/ticker.SPLIT\n\n\0\n\r\nSUBSCRIBE\nid:2\ndestination:/topic/ticker.SPLITB\n\n\0" +
        "SEND\ndestination:/topic/ticker.SPLIT\ncontent-length:3\nreceipt:r\n\na\0b\0",
    );
    // The SEND is refused (not a publisher) only after both SUBSCRIBEs were handled.
    const seen = new Set<string>();
    for (;;) {
      const f = await raw.next();
      if (f.command === "ERROR") {
        expect(header(f, "message")).toBe("Not authorized to publish");
        expect(header(f, "receipt-id")).toBe("r");
        break;
      }
      if (f.command === "MESSAGE") seen.add(header(f, "subscription")!);
    }
    expect(seen).toEqual(new Set(["1", "2"]));
  });

  it("echoes a client heart-beat (a lone EOL) as the server heart-beat", async () => {
    const raw = await RawStomp.open(srv.url, "HBEAT");
    const connected = await raw.connect("1.2", "heart-beat:5000,5000\n");
    expect(header(connected, "heart-beat")).toBe("10000,10000");
    const before = raw.raw.length;
    raw.send("\n");
    const deadline = Date.now() + 3000;
    while (!raw.raw.slice(before).includes("\n") && Date.now() < deadline) await sleep(20);
    expect(raw.raw.slice(before)).toContain("\n");
    raw.close();
  });

  it("DISCONNECT with a receipt gets the RECEIPT, then a normal close", async () => {
    const raw = await RawStomp.open(srv.url, "BYE");
    await raw.connect();
    raw.send("DISCONNECT\nreceipt:bye-1\n\n\0");
    expect(header(await raw.next("RECEIPT"), "receipt-id")).toBe("bye-1");
    expect((await raw.waitClosed()).code).toBe(1000);
  });
});
