import { describe, expect, it } from "vitest";
import type { SockJSOptions } from "../../worker/config";
import { FORWARDED_PROTO } from "../../worker/transports/sockjs/forwarding";
import { sessionCookie } from "../../worker/transports/sockjs/headers";

const options = (cookieNeeded: boolean): SockJSOptions => ({
  websocket: true,
  cookieNeeded,
  heartbeatMs: 25_000,
  disconnectDelayMs: 5_000,
  responseLimit: 131_072,
  clientUrl: "/sockjs.js",
});
const request = (headers: Record<string, string> = {}) =>
  new Request("https://hub.internal/xhr/s1", { method: "POST", headers });

describe("JSESSIONID", () => {
  it("is set only with cookie_needed", () => {
    expect(sessionCookie(request(), options(false))).toEqual({});
  });

  it("echoes the client's own, or 'dummy', as the reference servers do", () => {
    expect(sessionCookie(request(), options(true))).toEqual({ "Set-Cookie": "JSESSIONID=dummy; path=/" });
    expect(sessionCookie(request({ Cookie: "a=1; JSESSIONID=abc.9" }), options(true))).toEqual({
      "Set-Cookie": "JSESSIONID=abc.9; path=/",
    });
    // A value that could break out of the header is not echoed.
    expect(sessionCookie(request({ Cookie: 'JSESSIONID=a"b<script>' }), options(true))).toEqual({
      "Set-Cookie": "JSESSIONID=dummy; path=/",
    });
  });

  it("sets a bound session's value HttpOnly, and cross-site usable when the client came over HTTPS", () => {
    expect(sessionCookie(request({ [FORWARDED_PROTO]: "http" }), options(true), "k1")).toEqual({
      "Set-Cookie": "JSESSIONID=k1; path=/; HttpOnly",
    });
    expect(sessionCookie(request({ [FORWARDED_PROTO]: "https" }), options(true), "k1")).toEqual({
      "Set-Cookie": "JSESSIONID=k1; path=/; HttpOnly; SameSite=None; Secure",
    });
  });
});
