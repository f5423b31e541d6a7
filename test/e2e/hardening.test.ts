/**
 * What an attacker tries, on bare workerd (`npm start`) with a restricted allow-list:
 * hijacking a SockJS session, reading a stream from another site over JSONP, flooding a
 * hub with tiny messages, oversized POST bodies, reasons that echo raw input, symbols made
 * by Unicode case folding, absurd prices and unbounded session ids.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameDecoder } from "../../worker/protocol/stomp/decoder";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import { RawStomp } from "../support/raw-stomp";
import { Collector, type Connected, connectStomp, sleep } from "../support/stomp";
import { fuzzCases } from "../support/stomp-fuzz";

const ALLOWED = "http://allowed.test";
const OTHER_ALLOWED = "https://shop.example.com";
let srv: DevServer;
beforeAll(async () => {
  srv = await startDevServer({
    runtime: "workerd",
    vars: {
      HUB_SHARDS: "1", // attacker and bystander share one hub
      TICK_INTERVAL_MS: "250",
      ALLOWED_ORIGINS: `${ALLOWED},https://*.example.com`,
      INBOUND_MESSAGES_PER_SECOND: "20",
      MAX_SUBSCRIPTIONS: "10",
      SOCKJS_COOKIE_NEEDED: "true",
    },
  });
});
afterAll(async () => srv?.stop());

/** The cookie pair a response sets, for sending back (sessions are bound to it: SOCKJS_COOKIE_NEEDED). */
const cookieOf = (res: Response) => (res.headers.get("set-cookie") ?? "").split(";")[0]!;
const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers });

/** The bystander's ticks kept coming (`more` after what it had), in order, with no error; then it leaves. */
async function expectUndisturbed(bystander: Connected, watched: Collector, more: number): Promise<void> {
  await watched.waitFor(watched.messages.length + more);
  const seqs = watched.ticks.map((t) => t.seq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
  expect(bystander.errors).toEqual([]);
  await bystander.disconnect();
}

describe("SockJS sessions belong to whoever opened them", () => {
  it("answers another origin's, or a cookie-less, send or receive on a live session like an unknown session", async () => {
    const base = `${srv.url}/sockjs/000/victim1`;
    const opened = await post(`${base}/xhr`, "", { Origin: ALLOWED });
    expect(await opened.text()).toBe("o\n");
    // cookie_needed: the server issues the session's cookie (not the reference servers' "dummy").
    const setCookie = opened.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^JSESSIONID=[A-Za-z0-9_-]{22}; path=\/; HttpOnly$/);
    const owner = { Origin: ALLOWED, Cookie: cookieOf(opened) };
    expect((await post(`${base}/xhr_send`, JSON.stringify(["CONNECT\naccept-version:1.2\n\n\0"]), owner)).status).toBe(
      204,
    );
    // Whoever learned the id is refused: the same page without the cookie, with a cookie of
    // its own, or another allowed site with the cookie too.
    const subscribe = JSON.stringify(["SUBSCRIBE\nid:x\ndestination:/topic/ticker.AAPL\n\n\0"]);
    const intruders: Record<string, string>[] = [
      { Origin: ALLOWED },
      { Origin: ALLOWED, Cookie: "JSESSIONID=guess" },
      { ...owner, Origin: OTHER_ALLOWED },
    ];
    for (const intruder of intruders) {
      const send = await post(`${base}/xhr_send`, subscribe, intruder);
      expect(send.status).toBe(404);
      expect(await send.text()).toBe("Session not found.");
      expect((await post(`${base}/xhr`, "", intruder)).status).toBe(404);
    }
    // The owner's session is untouched: its CONNECTED is still waiting for it.
    expect(await (await post(`${base}/xhr`, "", owner)).text()).toMatch(/^a\["CONNECTED\\n/);
  });

  it("binds a session to the JSESSIONID the client already has", async () => {
    const base = `${srv.url}/sockjs/000/victim2`;
    const owner = { Origin: ALLOWED, Cookie: "theme=dark; JSESSIONID=app-session.1" };
    const opened = await post(`${base}/xhr`, "", owner);
    expect(cookieOf(opened)).toBe("JSESSIONID=app-session.1");
    expect((await post(`${base}/xhr_send`, JSON.stringify(["CONNECT\naccept-version:1.2\n\n\0"]), owner)).status).toBe(
      204,
    );
    expect(
      (await post(`${base}/xhr_send`, JSON.stringify(["\n"]), { Origin: ALLOWED, Cookie: "JSESSIONID=app-session.2" }))
        .status,
    ).toBe(404);
    expect(await (await post(`${base}/xhr`, "", owner)).text()).toMatch(/^a\["CONNECTED\\n/);
  });
});

describe("transports loaded by <script> prove their origin", () => {
  const jsonp = (headers: Record<string, string>) =>
    fetch(`${srv.url}/sockjs/000/j${Math.random().toString(36).slice(2)}/jsonp?c=cb`, { headers });

  it("refuses jsonp without Origin unless the Referer or Sec-Fetch-Site shows an allowed page", async () => {
    expect((await jsonp({})).status).toBe(403);
    expect((await jsonp({ Referer: "http://evil.test/page.html" })).status).toBe(403);
    const refused = await jsonp({ Referer: "https://evil.test/" });
    expect(await refused.text()).toBe("Origin not allowed.");
    const allowed = await jsonp({ Referer: `${ALLOWED}/news/today.html` });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toBe('/**/cb("o");\r\n');
    expect((await jsonp({ "Sec-Fetch-Site": "same-origin" })).status).toBe(200);
    // htmlfile likewise; eventsource and xhr carry an Origin and are checked by it.
    const htmlfile = await fetch(`${srv.url}/sockjs/000/h1/htmlfile?c=cb`, {
      headers: { Referer: "http://evil.test/" },
    });
    expect(htmlfile.status).toBe(403);
  });
});

describe("inbound floods", () => {
  it("stops a client trickling a frame byte by byte, with an ERROR, and its neighbours do not notice", async () => {
    const bystander = await connectStomp(srv.url);
    const watched = new Collector(bystander.client, "/topic/ticker.CALM");
    await watched.waitFor(1);
    const attacker = await RawStomp.open(srv.url);
    await attacker.connect();
    const frame = `SEND\ndestination:/topic/ticker.CALM\n\n${"x".repeat(500)}\0`;
    const started = Date.now();
    for (const ch of frame) {
      if (attacker.closed) break;
      attacker.send(ch === "\n" ? "\r\n" : ch); // a lone "\n" would be a heart-beat, answered by the runtime
      await sleep(1);
    }
    const error = await attacker.next("ERROR");
    expect(error.headers).toContainEqual(["message", "Too much input"]);
    expect((await attacker.waitClosed()).code).toBe(1008);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The neighbour on the same hub kept getting ticks all along, in order.
    await expectUndisturbed(bystander, watched, 3);
  });
});

describe("oversized bodies", () => {
  it("answers a 2 MiB xhr_send with 413 and leaves the next request on the same connection unharmed", async () => {
    const base = `${srv.url}/sockjs/000/big1`;
    const opened = await post(`${base}/xhr`, "", { Origin: ALLOWED });
    expect(await opened.text()).toBe("o\n");
    const cookie = cookieOf(opened);
    // Raw HTTP/1.1 keep-alive: the oversized request, then a normal one on the same socket.
    const agentless = (path: string, body: string) =>
      new Promise<{ status: number; ms: number }>((resolve, reject) => {
        const t = Date.now();
        const req = httpRequest(
          `${srv.url}${path}`,
          { method: "POST", headers: { Origin: ALLOWED, Cookie: cookie, "Content-Type": "text/plain" } },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode!, ms: Date.now() - t }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const big = await agentless("/sockjs/000/big1/xhr_send", JSON.stringify(["x".repeat(2 * 1024 * 1024)]));
    expect(big.status).toBe(413);
    const next = await agentless("/sockjs/000/big1/xhr_send", JSON.stringify(["\n"]));
    expect(next.status).toBe(204);
    expect(next.ms).toBeLessThan(2_000);
    expect(srv.logs()).not.toMatch(/Can't read from request stream/);
  });
});

describe("input that tries to become something else", () => {
  it("keeps every echoed reason on one line", async () => {
    for (const path of ["/ws/A%0d%0aSet-Cookie:%20x", "/sockjs/A%0d%0aB/info", "/api/history/A%0d%0aB"]) {
      const res = await fetch(`${srv.url}${path}`);
      expect(res.status, path).toBe(400);
      const text = await res.text();
      expect(text, path).toMatch(/^[^\r\n]+\n$/);
      expect(text).toContain("\\u000d\\u000a");
    }
  });

  it("refuses symbols that Unicode case folding would turn into others", async () => {
    for (const s of ["%C5%BFPY", "%C4%B1BM", "%EF%AC%80"]) {
      const res = await fetch(`${srv.url}/api/quotes?symbols=${s}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(/^invalid symbol/);
    }
  });

  it("refuses absurd prices with a reason", async () => {
    const res = await postTicks(srv.url, { symbol: "ABSURD", price: 1e308 }, "test-publish-token");
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("price must be a number from 1e-9 to 1000000000\n");
  });

  it("bounds SockJS session ids", async () => {
    const res = await post(`${srv.url}/sockjs/000/${"s".repeat(20_000)}/xhr`, "", { Origin: ALLOWED });
    expect(res.status).toBe(404);
  });
});

const DISCONNECT = "DISCONNECT\nreceipt:end\n\n\0";

/** Whether `input` leaves the DISCONNECT after it a frame of its own (or is malformed, which must be answered at once). */
function completesBefore(input: string): boolean {
  try {
    return new FrameDecoder({ maxFrameBytes: 65_536 }).push(input + DISCONNECT).some((f) => f.command === "DISCONNECT");
  } catch {
    return true;
  }
}

/** How a session answered: its RECEIPT, an ERROR (with its message), a close without one, or nothing in time. */
async function answerOf(
  raw: RawStomp,
  timeoutMs: number,
): Promise<"receipt" | "closed" | "no answer" | { message: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = await raw.next(undefined, Math.max(1, deadline - Date.now())).catch(() => undefined);
    if (frame?.command === "RECEIPT") return "receipt";
    if (frame?.command === "ERROR") return { message: frame.headers.find(([k]) => k === "message")?.[1] ?? "" };
    if (frame) continue; // a MESSAGE: the session goes on
    return raw.closed ? "closed" : "no answer";
  }
}

describe("mutated frames against the live server", () => {
  const cases = Number(process.env.E2E_FUZZ_CASES ?? 150);
  it(`answers ${cases} mutated frames, each on its own connection, while a bystander's ticks keep coming in order`, async () => {
    const bystander = await connectStomp(srv.url);
    const watched = new Collector(bystander.client, "/topic/ticker.FUZZ");
    await watched.waitFor(1);
    const inputs = fuzzCases(99, cases);
    for (let i = 0; i < inputs.length; i += 10) {
      await Promise.all(
        inputs.slice(i, i + 10).map(async (input) => {
          const raw = await RawStomp.open(srv.url);
          await raw.connect();
          raw.send(input);
          raw.send(DISCONNECT);
          // Within 5 s, either the session went on (the DISCONNECT's RECEIPT) or it ended: a readable ERROR, or a close.
          // Only an input that is still an unfinished frame (it swallows the DISCONNECT) may be met with silence.
          const outcome = await answerOf(raw, 5_000);
          if (completesBefore(input)) expect(outcome, JSON.stringify(input)).not.toBe("no answer");
          if (typeof outcome !== "string") expect(outcome.message).toMatch(/^[\x20-\x7e]+$/);
          raw.close();
        }),
      );
    }
    await expectUndisturbed(bystander, watched, 2);
  });
});
