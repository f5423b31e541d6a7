/**
 * The SockJS 0.3.3 protocol, checked over HTTP and raw WebSockets against the
 * suite's services (/sockjs-test/{echo,close,disabled_websocket_echo,cookie_needed_echo}),
 * which run the product's own SockJS code with an echo/close application.
 */
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DEFAULT_RUNTIME, type DevServer, startDevServer } from "../support/dev-server";
import { rawChunks, TextStream } from "../support/http-stream";

let srv: DevServer;
let base: string;
beforeAll(async () => {
  // Short timers so heartbeats and session expiry are observable in a test.
  srv = await startDevServer({
    vars: { SOCKJS_TEST_SERVICES: "true", SOCKJS_HEARTBEAT_MS: "2000", SOCKJS_DISCONNECT_DELAY_MS: "1500" },
  });
  base = `${srv.url}/sockjs-test`;
});
afterAll(async () => srv?.stop());

// The reference servers (sockjs-node 0.3.24, Spring) add no-transform to the 0.3.3 document's value.
const NO_CACHE = "no-store, no-cache, no-transform, must-revalidate, max-age=0";
const session = (service = "echo") => `${base}/${service}/000/${randomUUID()}`;
const post = (url: string, body?: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", body, headers });

function expectCors(res: Response, origin?: string) {
  // An allowed "null" Origin is echoed as "null" with credentials, like any other.
  if (origin) {
    expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
  } else {
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  }
}

function expectNotCached(res: Response) {
  expect(res.headers.get("cache-control")).toBe(NO_CACHE);
  expect(res.headers.get("expires")).toBeNull();
  expect(res.headers.get("last-modified")).toBeNull();
}

async function expectOptions(url: string, methods: string) {
  for (const origin of [undefined, "http://test.example", "null"]) {
    const res = await fetch(url, { method: "OPTIONS", headers: origin ? { Origin: origin } : {} });
    expect(res.status).toBe(204);
    expect(res.headers.get("cache-control")).toMatch(/public/);
    expect(res.headers.get("cache-control")).toMatch(/max-age=[1-9][0-9]{6}/);
    expect(res.headers.get("expires")).toBeTruthy();
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(1_000_000);
    expect(res.headers.get("access-control-allow-methods")).toBe(methods);
    expect(await res.text()).toBe("");
    expectCors(res, origin);
  }
}

function openSocket(url: string): Promise<{ ws: WebSocket; next: () => Promise<string>; closed: Promise<number> }> {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  const queue: string[] = [];
  const waiting: Array<(m: string) => void> = [];
  ws.on("message", (data) => {
    const text = data.toString();
    const w = waiting.shift();
    if (w) w(text);
    else queue.push(text);
  });
  const closed = new Promise<number>((res) => ws.once("close", (code) => res(code)));
  const next = () =>
    new Promise<string>((res, rej) => {
      const m = queue.shift();
      if (m !== undefined) return res(m);
      const timer = setTimeout(() => rej(new Error("no websocket message within 5 s")), 5_000);
      waiting.push((text) => {
        clearTimeout(timer);
        res(text);
      });
    });
  return new Promise((res, rej) => {
    ws.once("open", () => res({ ws, next, closed }));
    ws.once("error", rej);
  });
}

describe("static URLs", () => {
  it("greets on the base URL and 404s on other simple paths", async () => {
    for (const url of [`${base}/echo`, `${base}/echo/`]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toBe("Welcome to SockJS!\n");
    }
    for (const suffix of ["/a", "/a.html", "//", "///", "/a/a", "/a/a/", "/a/"]) {
      expect((await fetch(`${base}/echo${suffix}`)).status, suffix).toBe(404);
    }
  });

  it("serves a cacheable iframe page with an ETag and answers 304 to If-None-Match", async () => {
    for (const suffix of [
      "/iframe.html",
      "/iframe-a.html",
      "/iframe-.html",
      "/iframe-0.1.2.html",
      "/iframe-0.1.2abc-dirty.2144.html",
      "/iframe-a.html?t=1234",
    ]) {
      const res = await fetch(`${base}/echo${suffix}`);
      expect(res.status, suffix).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8");
      expect(res.headers.get("cache-control")).toMatch(/public.*max-age=31536000/);
      expect(res.headers.get("expires")).toBeTruthy();
      expect(res.headers.get("etag")).toBeTruthy();
      expect(res.headers.get("last-modified")).toBeNull();
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toMatch(/<script src="\/lib\/sockjs\.min\.js"><\/script>[\s\S]*Don't panic!/);
    }
    for (const suffix of [
      "/iframe.htm",
      "/iframe",
      "/IFRAME.HTML",
      "/IFRAME",
      "/iframe.HTML",
      "/iframe.xml",
      "/iframe-/.html",
    ]) {
      expect((await fetch(`${base}/echo${suffix}`)).status, suffix).toBe(404);
    }
    const first = await fetch(`${base}/echo/iframe.html`);
    const second = await fetch(`${base}/echo/iframe.html`);
    expect(first.headers.get("etag")).toBe(second.headers.get("etag"));
    const cached = await fetch(`${base}/echo/iframe.html`, {
      headers: { "If-None-Match": first.headers.get("etag")! },
    });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("content-type")).toBeNull();
    expect(await cached.text()).toBe("");
  });

  it("serves the client library the iframe page loads", async () => {
    const res = await fetch(`${srv.url}/lib/sockjs.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/javascript; charset=UTF-8");
    expect(await res.text()).toMatch(/^\/\* sockjs-client v1\.6\.1/);
  });
});

describe("/info", () => {
  it("describes the service, uncached, with CORS and fresh entropy each time", async () => {
    const res = await fetch(`${base}/echo/info`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=UTF-8");
    expect(res.headers.get("set-cookie")).toBeNull();
    expectNotCached(res);
    expectCors(res);
    const data = (await res.json()) as Record<string, unknown>;
    expect(data).toEqual({ websocket: true, cookie_needed: false, origins: ["*:*"], entropy: expect.any(Number) });
    expect(Number.isInteger(data.entropy)).toBe(true);
    const again = (await (await fetch(`${base}/echo/info`)).json()) as { entropy: number };
    expect(again.entropy).not.toBe(data.entropy);
  });

  it("answers preflights, including from a null origin", async () => {
    await expectOptions(`${base}/echo/info`, "OPTIONS, GET");
  });

  it("reports the per-service options", async () => {
    expect(
      ((await (await fetch(`${base}/disabled_websocket_echo/info`)).json()) as { websocket: boolean }).websocket,
    ).toBe(false);
    expect(
      ((await (await fetch(`${base}/cookie_needed_echo/info`)).json()) as { cookie_needed: boolean }).cookie_needed,
    ).toBe(true);
  });
});

describe("sessions over xhr-polling", () => {
  it("accepts any server and session id without dots, and ignores the server id", async () => {
    for (const part of ["/a/a", "/_/_", "/1/1", "/abcdefgh_i-j%20/abcdefg_i-j%20"]) {
      const res = await post(`${base}/echo${part}/xhr`);
      expect(res.status, part).toBe(200);
      expect(await res.text()).toBe("o\n");
    }
    for (const part of ["//", "/a./a", "/a/a.", "/./.", "/", "///"]) {
      expect((await fetch(`${base}/echo${part}/xhr`)).status, part).toBe(404);
      expect((await post(`${base}/echo${part}/xhr`)).status, part).toBe(404);
    }
    const id = randomUUID();
    expect(await (await post(`${base}/echo/000/${id}/xhr`)).text()).toBe("o\n");
    expect((await post(`${base}/echo/000/${id}/xhr_send`, '["a"]')).status).toBe(204);
    expect(await (await post(`${base}/echo/999/${id}/xhr`)).text()).toBe('a["a"]\n');
  });

  it("runs the simple session: open, send, echo, 404 for unknown sessions, one receiver at a time", async () => {
    const url = session();
    const open = await post(`${url}/xhr`);
    expect(open.status).toBe(200);
    expect(open.headers.get("content-type")).toBe("application/javascript; charset=UTF-8");
    expectCors(open);
    expectNotCached(open);
    expect(await open.text()).toBe("o\n");

    const sent = await post(`${url}/xhr_send`, '["x"]');
    expect(sent.status).toBe(204);
    expect(sent.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
    expectCors(sent);
    expectNotCached(sent);
    expect(await sent.text()).toBe("");
    expect(await (await post(`${url}/xhr`)).text()).toBe('a["x"]\n');

    expect((await post(`${base}/echo/000/bad_session/xhr_send`, '["a"]')).status).toBe(404);

    const waiting = post(`${url}/xhr`);
    await new Promise((r) => setTimeout(r, 250));
    const second = await post(`${url}/xhr`);
    expect(second.status).toBe(200);
    expect(await second.text()).toBe('c[2010,"Another connection still open"]\n');
    // The waiting poll still gets the next message.
    await post(`${url}/xhr_send`, '["later"]');
    expect(await (await waiting).text()).toBe('a["later"]\n');
  });

  it("keeps serving the close frame of a closed session", async () => {
    const url = session("close");
    expect(await (await post(`${url}/xhr`)).text()).toBe("o\n");
    expect(await (await post(`${url}/xhr`)).text()).toBe('c[3000,"Go away!"]\n');
    expect(await (await post(`${url}/xhr`)).text()).toBe('c[3000,"Go away!"]\n');
  });

  it("answers preflights on xhr and xhr_send", async () => {
    await expectOptions(`${base}/echo/abc/abc/xhr`, "OPTIONS, POST");
    await expectOptions(`${base}/echo/abc/abc/xhr_send`, "OPTIONS, POST");
  });

  it("rejects broken or missing payloads with 500 and keeps the session", async () => {
    const url = session();
    await post(`${url}/xhr`);
    const broken = await post(`${url}/xhr_send`, '["x');
    expect(broken.status).toBe(500);
    expect(await broken.text()).toContain("Broken JSON encoding.");
    const empty = await post(`${url}/xhr_send`, "");
    expect(empty.status).toBe(500);
    expect(await empty.text()).toContain("Payload expected.");
    expect((await post(`${url}/xhr_send`, '["a"]')).status).toBe(204);
    expect(await (await post(`${url}/xhr`)).text()).toBe('a["a"]\n');
  });

  it("accepts any content type and echoes requested CORS headers", async () => {
    const url = session();
    await post(`${url}/xhr`);
    const types = [
      "text/plain",
      "T",
      "application/json",
      "application/xml",
      "",
      "application/json; charset=utf-8",
      "text/xml; charset=utf-8",
      "text/xml",
    ];
    for (const type of types)
      expect((await post(`${url}/xhr_send`, '["a"]', { "Content-Type": type })).status).toBe(204);
    expect(await (await post(`${url}/xhr`)).text()).toBe(`a[${types.map(() => '"a"').join(",")}]\n`);

    const withHeaders = await post(`${session()}/xhr`, undefined, { "Access-Control-Request-Headers": "a, b, c" });
    expect(withHeaders.headers.get("access-control-allow-headers")).toBe("a, b, c");
    const emptyHeaders = await post(`${session()}/xhr`, undefined, { "Access-Control-Request-Headers": "" });
    expect(emptyHeaders.headers.get("access-control-allow-headers")).toBeNull();
    expect((await post(`${session()}/xhr`)).headers.get("access-control-allow-headers")).toBeNull();
  });

  it("escapes what the spec requires on the way out and decodes client escapes on the way in", async () => {
    const url = session();
    await post(`${url}/xhr`);
    let killer = "";
    for (let code = 0x200c; code <= 0x200f; code++) killer += String.fromCharCode(code);
    for (let code = 0x2028; code <= 0x202f; code++) killer += String.fromCharCode(code);
    for (let code = 0x2060; code <= 0x206f; code++) killer += String.fromCharCode(code);
    for (let code = 0xfff0; code <= 0xffff; code++) killer += String.fromCharCode(code);
    await post(`${url}/xhr_send`, `["${killer}"]`);
    const escaped = [...killer].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
    expect(await (await post(`${url}/xhr`)).text()).toBe(`a["${escaped}"]\n`);

    await post(`${url}/xhr_send`, '["\\u00ad\\u0600\\u2000\\ufeff\\"\\\\"]');
    const body = await (await post(`${url}/xhr`)).text();
    expect(JSON.parse(body.slice(1))).toEqual(['\u00ad\u0600\u2000\ufeff"\\']);
  });

  it("answers wrong methods with 405 and Allow, and unknown transports with 404", async () => {
    const res = await fetch(`${base}/echo/a/a/xhr`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("OPTIONS, POST");
    expect(res.headers.get("content-type")).toBeNull();
    expect(await res.text()).toBe("");
    expect((await post(`${base}/echo/a/a/jsonp`)).headers.get("allow")).toBe("GET");
    expect((await post(`${base}/echo/a/a/nope`)).status).toBe(404);
  });
});

describe("session timers", () => {
  it("sends h to a waiting receiver every heartbeat period", async () => {
    const url = session();
    await post(`${url}/xhr`);
    const started = Date.now();
    expect(await (await post(`${url}/xhr`)).text()).toBe("h\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    const stream = new TextStream((await post(`${url}/xhr_streaming`)).body);
    await stream.take(2049);
    expect(await stream.take(2, 4_000)).toBe("h\n");
    await stream.cancel();
  });

  it("keeps queued messages between polls, and forgets a session left without a receiver", async () => {
    const url = session();
    await post(`${url}/xhr`);
    await post(`${url}/xhr_send`, '["one"]');
    await post(`${url}/xhr_send`, '["two"]');
    await new Promise((r) => setTimeout(r, 700));
    expect(await (await post(`${url}/xhr`)).text()).toBe('a["one","two"]\n');
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await post(`${url}/xhr_send`, '["late"]')).status).toBe(404);
    expect(await (await post(`${url}/xhr`)).text()).toBe("o\n");
  });
});

describe("streaming transports", () => {
  it("xhr_streaming: 2 KiB prelude, then each frame in its own chunk", async () => {
    const url = session();
    const { head, chunks } = await rawChunks(`${url}/xhr_streaming`, "POST", (c) => c.join("").length >= 2051);
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/content-type: application\/javascript; charset=UTF-8/i);
    expect(head).toMatch(new RegExp(`cache-control: ${NO_CACHE}`, "i"));
    // The prelude goes out as one write; workerd sometimes splits its first chunk (at
    // byte 27, measured), which no client depends on. The open frame never shares a chunk.
    expect(chunks.join("")).toBe(`${"h".repeat(2048)}\no\n`);
    expect(chunks.at(-1)).toBe("o\n");
  });

  it("xhr_streaming: delivers sends, then closes after the response limit (4 KiB here)", async () => {
    const url = session();
    const res = await post(`${url}/xhr_streaming`);
    expect(res.status).toBe(200);
    expectCors(res);
    expectNotCached(res);
    const stream = new TextStream(res.body);
    expect(await stream.take(2049)).toBe(`${"h".repeat(2048)}\n`);
    expect(await stream.take(2)).toBe("o\n");
    const msg = `"${"x".repeat(128)}"`;
    for (let i = 0; i < 31; i++) {
      expect((await post(`${url}/xhr_send`, `[${msg}]`)).status).toBe(204);
      expect(await stream.take(msg.length + 4)).toBe(`a[${msg}]\n`);
    }
    expect(await stream.endsEmpty()).toBe(true);
  });

  it("eventsource: CRLF prelude, data frames, escapes, response limit", async () => {
    const url = session();
    const res = await fetch(`${url}/eventsource`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expectNotCached(res);
    const stream = new TextStream(res.body);
    expect(await stream.take(2)).toBe("\r\n");
    expect(await stream.take(11)).toBe("data: o\r\n\r\n");
    await post(`${url}/xhr_send`, '["x"]');
    expect(await stream.take(16)).toBe('data: a["x"]\r\n\r\n');
    await post(`${url}/xhr_send`, '["  \\u0000\\n\\r "]');
    const expected = 'data: a["  \\u0000\\n\\r "]\r\n\r\n';
    expect(await stream.take(expected.length)).toBe(expected);
    const big = `"${"x".repeat(4096)}"`;
    await post(`${url}/xhr_send`, `[${big}]`);
    expect(await stream.take(big.length + 13)).toBe(`data: a[${big}]\r\n\r\n`);
    expect(await stream.endsEmpty()).toBe(true);
  });

  it("htmlfile: padded prelude naming the callback, script frames, callback validation, response limit", async () => {
    const url = session();
    const res = await fetch(`${url}/htmlfile?c=%63allback`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expectNotCached(res);
    const stream = new TextStream(res.body);
    const prelude = await stream.takeThrough("\r\n\r\n");
    expect(prelude.length).toBeGreaterThan(1024);
    expect(prelude).toContain("var c = parent.callback;");
    expect(await stream.take(28)).toBe('<script>\np("o");\n</script>\r\n');
    await post(`${url}/xhr_send`, '["x"]');
    const frame = '<script>\np("a[\\"x\\"]");\n</script>\r\n';
    expect(await stream.take(frame.length)).toBe(frame);
    const big = "x".repeat(4096);
    await post(`${url}/xhr_send`, `["${big}"]`);
    const bigFrame = `<script>\np("a[\\"${big}\\"]");\n</script>\r\n`;
    expect(await stream.take(bigFrame.length)).toBe(bigFrame);
    expect(await stream.endsEmpty()).toBe(true);

    const missing = await fetch(`${base}/echo/a/a/htmlfile`);
    expect(missing.status).toBe(500);
    expect(await missing.text()).toContain('"callback" parameter required');
    const invalid = await fetch(`${base}/echo/a/a/htmlfile?c=%ccallback`);
    expect(invalid.status).toBe(500);
    expect(await invalid.text()).toContain('invalid "callback" parameter');
  });

  it("closing: a closed session serves its close frame to every stream; a second receiver gets 2010", async () => {
    const closed = session("close");
    const first = new TextStream((await post(`${closed}/xhr_streaming`)).body);
    await first.take(2049);
    expect(await first.take(2)).toBe("o\n");
    expect(await first.take(19)).toBe('c[3000,"Go away!"]\n');
    const second = new TextStream((await post(`${closed}/xhr_streaming`)).body);
    await second.take(2049);
    expect(await second.take(19)).toBe('c[3000,"Go away!"]\n');
    expect(await first.endsEmpty()).toBe(true);
    expect(await second.endsEmpty()).toBe(true);

    const open = session();
    const holder = new TextStream((await post(`${open}/xhr_streaming`)).body);
    await holder.take(2051);
    const intruder = new TextStream((await post(`${open}/xhr_streaming`)).body);
    await intruder.take(2049);
    expect(await intruder.take(40)).toBe('c[2010,"Another connection still open"]\n');
    expect(await intruder.endsEmpty()).toBe(true);
    await holder.cancel();
  });
});

describe("jsonp", () => {
  it("polls with a callback and accepts form-encoded or plain sends", async () => {
    const url = session();
    const res = await fetch(`${url}/jsonp?c=%63allback`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/javascript; charset=UTF-8");
    expectNotCached(res);
    // The /**/ prefix: a reflected callback can never start a Flash file (Rosetta Flash).
    expect(await res.text()).toBe('/**/callback("o");\r\n');
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    const sent = await post(`${url}/jsonp_send`, "d=%5B%22x%22%5D", form);
    expect(sent.status).toBe(200);
    expect(sent.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
    expectNotCached(sent);
    expect(await sent.text()).toBe("ok");
    expect(await (await post(`${url}/jsonp_send`, '["%61bc"]', { "Content-Type": "text/plain" })).text()).toBe("ok");
    expect(await (await fetch(`${url}/jsonp?c=%63allback`)).text()).toBe('/**/callback("a[\\"x\\",\\"%61bc\\"]");\r\n');
  });

  it("validates callbacks and payloads", async () => {
    const missing = await fetch(`${base}/echo/a/a/jsonp`);
    expect(missing.status).toBe(500);
    expect(await missing.text()).toContain('"callback" parameter required');
    expect((await fetch(`${base}/echo/a/a/jsonp?c=%ccallback`)).status).toBe(500);

    const url = session();
    expect(await (await fetch(`${url}/jsonp?c=x`)).text()).toBe('/**/x("o");\r\n');
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    const broken = await post(`${url}/jsonp_send`, "d=%5B%22x", form);
    expect(broken.status).toBe(500);
    expect(await broken.text()).toContain("Broken JSON encoding.");
    for (const body of ["", "d=", "p=p"]) {
      const res = await post(`${url}/jsonp_send`, body, form);
      expect(res.status, body).toBe(500);
      expect(await res.text()).toContain("Payload expected.");
    }
    expect(await (await post(`${url}/jsonp_send`, "d=%5B%22b%22%5D", form)).text()).toBe("ok");
    expect(await (await fetch(`${url}/jsonp?c=x`)).text()).toBe('/**/x("a[\\"b\\"]");\r\n');
  });

  it("serves the close frame", async () => {
    const url = session("close");
    expect(await (await fetch(`${url}/jsonp?c=x`)).text()).toBe('/**/x("o");\r\n');
    expect(await (await fetch(`${url}/jsonp?c=x`)).text()).toBe('/**/x("c[3000,\\"Go away!\\"]");\r\n');
    expect(await (await fetch(`${url}/jsonp?c=x`)).text()).toBe('/**/x("c[3000,\\"Go away!\\"]");\r\n');
  });
});

describe("JSESSIONID", () => {
  it("is set on every session transport when cookie_needed, echoing the client's", async () => {
    const expectCookie = (res: Response, value = "dummy") => {
      const [pair, path] = (res.headers.get("set-cookie") ?? "").split(";");
      expect(pair?.trim()).toBe(`JSESSIONID=${value}`);
      expect(path?.trim().toLowerCase()).toBe("path=/");
    };
    const info = await fetch(`${base}/cookie_needed_echo/info`);
    expect(info.headers.get("set-cookie")).toBeNull();
    expectCookie(await post(`${session("cookie_needed_echo")}/xhr`));
    expectCookie(
      await post(`${session("cookie_needed_echo")}/xhr`, undefined, { Cookie: "JSESSIONID=abcdef" }),
      "abcdef",
    );
    for (const [suffix, method] of [
      ["xhr_streaming", "POST"],
      ["eventsource", "GET"],
      ["htmlfile?c=%63allback", "GET"],
    ] as const) {
      const res = await fetch(`${session("cookie_needed_echo")}/${suffix}`, { method });
      expectCookie(res);
      await res.body?.cancel();
    }
    const url = session("cookie_needed_echo");
    expectCookie(await fetch(`${url}/jsonp?c=%63allback`));
    const sent = await post(`${url}/jsonp_send`, "d=%5B%22x%22%5D", {
      "Content-Type": "application/x-www-form-urlencoded",
    });
    expect(await sent.text()).toBe("ok");
    expectCookie(sent);
    expect((await post(`${session()}/xhr`)).headers.get("set-cookie")).toBeNull();
  });
});

describe("websocket", () => {
  it("refuses plain requests with 400 and other methods with 405", async () => {
    const res = await fetch(`${base}/echo/0/0/websocket`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Can "Upgrade" only to "WebSocket".');
    // The suite also POSTs with Upgrade: WebSocket; workerd itself fails such requests
    // with 500 ("WebSocket must be initiated with a GET request") before a 405 can go out.
    const wrong = await post(`${base}/echo/0/0/websocket`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    expect(wrong.headers.get("content-type")).toBeNull();
    expect(await wrong.text()).toBe("");
    expect((await fetch(`${base}/disabled_websocket_echo/0/0/websocket`)).status).toBe(404);
  });

  it("refuses an upgrade whose Connection header a proxy rewrote with 400 (on bare workerd)", async () => {
    // The suite's test_invalidConnectionHeader. On bare workerd (npm start) the worker sees the
    // client's Connection header; `wrangler dev`'s proxy re-sends the request with
    // `Connection: Upgrade`, and the runtime then answers the 101 it cannot complete with 426
    // before the worker can say anything, so this runs on npm start whatever E2E_RUNTIME says.
    const bare =
      DEFAULT_RUNTIME === "workerd"
        ? undefined
        : await startDevServer({ runtime: "workerd", vars: { SOCKJS_TEST_SERVICES: "true" } });
    const url = bare ? `${bare.url}/sockjs-test` : base;
    // fetch cannot send Connection, node:http can.
    const { status, body } = await new Promise<{ status: number; body: string }>((res, rej) => {
      const req = httpRequest(
        `${url}/echo/0/0/websocket`,
        { headers: { Upgrade: "WebSocket", Connection: "close" } },
        (r) => {
          let text = "";
          r.on("data", (d: Buffer) => (text += d.toString()));
          r.on("end", () => res({ status: r.statusCode ?? 0, body: text }));
        },
      );
      req.on("upgrade", () => rej(new Error("upgraded")));
      req.on("error", rej);
      req.end();
    });
    await bare?.stop();
    expect(status).toBe(400);
    expect(body).toContain('"Connection" must be "Upgrade".');
  });

  it("frames messages, ignores empty ones, and allows reusing a session id", async () => {
    const url = `${session()}/websocket`;
    const a = await openSocket(url);
    const b = await openSocket(url);
    expect(await a.next()).toBe("o");
    expect(await b.next()).toBe("o");
    a.ws.send("");
    a.ws.send('["a"]');
    expect(await a.next()).toBe('a["a"]');
    b.ws.send('"b"');
    expect(await b.next()).toBe('a["b"]');
    a.ws.close();
    b.ws.close();
    const again = await openSocket(url);
    expect(await again.next()).toBe("o");
    again.ws.send('["c"]');
    expect(await again.next()).toBe('a["c"]');
    again.ws.close();
  });

  it("sends the close frame and closes; drops the connection on broken JSON", async () => {
    const closing = await openSocket(`${session("close")}/websocket`);
    expect(await closing.next()).toBe("o");
    expect(await closing.next()).toBe('c[3000,"Go away!"]');
    expect(await closing.closed).toBe(3000);

    const broken = await openSocket(`${session()}/websocket`);
    expect(await broken.next()).toBe("o");
    broken.ws.send('["a');
    expect(await broken.closed).toBe(1002);
  });

  it("raw /websocket echoes text as is, and the close service closes it at once", async () => {
    const raw = await openSocket(`${base}/echo/websocket`);
    raw.ws.send("Hello world!\uffff");
    expect(await raw.next()).toBe("Hello world!\uffff");
    raw.ws.close();
    const closing = await openSocket(`${base}/close/websocket`);
    expect(await closing.closed).toBe(3000);
  });
});
