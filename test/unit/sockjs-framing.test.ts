import { describe, expect, it } from "vitest";
import {
  closeFrame,
  decodeSendPayload,
  decodeSocketMessage,
  messageFrame,
  PayloadError,
  quote,
} from "../../worker/protocol/sockjs/frames";
import { iframePage } from "../../worker/protocol/sockjs/iframe";
import { allowedMethods, parseSockJSPath } from "../../worker/protocol/sockjs/paths";
import { callbackProblem, receiverFraming } from "../../worker/protocol/sockjs/receiver-framing";

describe("outgoing frames", () => {
  it("frames messages and closes as the spec writes them", () => {
    expect(messageFrame(["a"])).toBe('a["a"]');
    expect(messageFrame(["a", 'b"c', ""])).toBe('a["a","b\\"c",""]');
    expect(closeFrame(3000, "Go away!")).toBe('c[3000,"Go away!"]');
    expect(closeFrame(2010, "Another connection still open")).toBe('c[2010,"Another connection still open"]');
  });

  it("escapes every character the spec lists, in lowercase hex, beyond what JSON.stringify does", () => {
    const ranges: Array<[number, number]> = [
      [0x200c, 0x200f],
      [0x2028, 0x202f],
      [0x2060, 0x206f],
      [0xfff0, 0xffff],
    ];
    for (const [from, to] of ranges) {
      for (let code = from; code <= to; code++) {
        expect(quote(String.fromCharCode(code))).toBe(`"\\u${code.toString(16).padStart(4, "0")}"`);
      }
    }
    expect(quote("\u0000\n\r ")).toBe('"\\u0000\\n\\r "');
    // Paired surrogates (which JSON.stringify leaves raw) are escaped too.
    expect(quote("😀")).toBe('"\\ud83d\\ude00"');
    // Ordinary text, including non-ASCII letters, passes through.
    expect(quote("AAPL é ü")).toBe('"AAPL é ü"');
  });

  it("round-trips any string through quote and JSON.parse", () => {
    let all = "";
    for (let code = 0; code < 0x10000; code += 7) all += String.fromCharCode(code);
    expect(JSON.parse(quote(all))).toBe(all);
  });
});

describe("incoming payloads", () => {
  it("accepts a JSON array of strings from xhr_send / jsonp_send", () => {
    expect(decodeSendPayload('["a","b"]')).toEqual(["a", "b"]);
    expect(decodeSendPayload("[]")).toEqual([]);
    expect(decodeSendPayload('["\\u2028"]')).toEqual(["\u2028"]);
  });

  it("rejects bodies with the spec's reasons", () => {
    const reason = (body: string) => {
      try {
        decodeSendPayload(body);
        return "accepted";
      } catch (err) {
        expect(err).toBeInstanceOf(PayloadError);
        return (err as Error).message;
      }
    };
    expect(reason("")).toBe("Payload expected.");
    expect(reason('["x')).toBe("Broken JSON encoding.");
    expect(reason('{"a":1}')).toBe("Payload expected.");
    expect(reason("[1]")).toBe("Payload expected.");
  });

  it("decodes websocket messages: an array, one string, or nothing", () => {
    expect(decodeSocketMessage('["a","b"]')).toEqual(["a", "b"]);
    expect(decodeSocketMessage('"a"')).toEqual(["a"]);
    expect(decodeSocketMessage("")).toEqual([]);
    expect(decodeSocketMessage('["a')).toBeUndefined();
    expect(decodeSocketMessage("[1]")).toBeUndefined();
  });
});

describe("receiver framing", () => {
  it("wraps frames per transport", () => {
    expect(receiverFraming("xhr").wrap("o")).toBe("o\n");
    expect(receiverFraming("xhr_streaming").prelude).toBe(`${"h".repeat(2048)}\n`);
    expect(receiverFraming("eventsource").prelude).toBe("\r\n");
    expect(receiverFraming("eventsource").wrap('a["x"]')).toBe('data: a["x"]\r\n\r\n');
    expect(receiverFraming("jsonp", "cb").wrap('a["x"]')).toBe('/**/cb("a[\\"x\\"]");\r\n');
    expect(receiverFraming("htmlfile", "cb").wrap('a["x"]')).toBe('<script>\np("a[\\"x\\"]");\n</script>\r\n');
    expect(receiverFraming("xhr").streaming).toBe(false);
    expect(receiverFraming("jsonp", "cb").streaming).toBe(false);
    expect(receiverFraming("htmlfile", "cb").streaming).toBe(true);
  });

  it("pads the htmlfile prelude past 1 KiB and names the callback", () => {
    const prelude = receiverFraming("htmlfile", "callback").prelude;
    expect(prelude.length).toBeGreaterThan(1024);
    expect(prelude).toContain("var c = parent.callback;");
    expect(prelude.trim().endsWith("</script>")).toBe(true);
  });

  it("cannot be made to close the htmlfile script early", () => {
    const wrapped = receiverFraming("htmlfile", "cb").wrap(messageFrame(["</script><script>alert(1)</script>"]));
    expect(wrapped.match(/<\/script>/g)).toHaveLength(1);
  });

  it("validates jsonp/htmlfile callbacks", () => {
    expect(callbackProblem(null)).toBe('"callback" parameter required');
    expect(callbackProblem("")).toBe('"callback" parameter required');
    expect(callbackProblem("\u00ccallback")).toBe('invalid "callback" parameter');
    expect(callbackProblem("a(b)")).toBe('invalid "callback" parameter');
    expect(callbackProblem("_sockjs.jp_1-2")).toBeUndefined();
  });
});

describe("paths", () => {
  it("routes the fixed endpoints", () => {
    expect(parseSockJSPath("")).toEqual({ kind: "greeting" });
    expect(parseSockJSPath("/")).toEqual({ kind: "greeting" });
    expect(parseSockJSPath("/info")).toEqual({ kind: "info" });
    expect(parseSockJSPath("/websocket")).toEqual({ kind: "raw-websocket" });
    for (const ok of [
      "/iframe.html",
      "/iframe-a.html",
      "/iframe-.html",
      "/iframe-0.1.2.html",
      "/iframe-0.1.2abc-dirty.2144.html",
    ]) {
      expect(parseSockJSPath(ok)).toEqual({ kind: "iframe" });
    }
    for (const bad of [
      "/iframe.htm",
      "/iframe",
      "/IFRAME.HTML",
      "/iframe.HTML",
      "/iframe.xml",
      "/iframe-/.html",
      "/a",
      "/a.html",
      "//",
      "///",
      "/a/a",
      "/a/a/",
    ]) {
      expect(parseSockJSPath(bad), bad).toBeUndefined();
    }
  });

  it("routes session URLs, ignoring the server id and refusing dots and empty parts", () => {
    expect(parseSockJSPath("/000/abc/xhr")).toEqual({ kind: "session", sessionId: "abc", transport: "xhr" });
    expect(parseSockJSPath(`/000/${"s".repeat(64)}/xhr`)).toBeDefined();
    expect(parseSockJSPath(`/000/${"s".repeat(65)}/xhr`)).toBeUndefined();
    expect(parseSockJSPath(`/${"0".repeat(65)}/s/xhr`)).toBeUndefined();
    expect(parseSockJSPath("/abcdefgh_i-j%20/abcdefg_i-j%20/jsonp_send")).toEqual({
      kind: "session",
      sessionId: "abcdefg_i-j%20",
      transport: "jsonp_send",
    });
    for (const bad of ["//a/xhr", "/a./a/xhr", "/a/a./xhr", "/./././xhr", "/a/a/nope", "/a/a/xhr/", "/a/xhr"]) {
      expect(parseSockJSPath(bad), bad).toBeUndefined();
    }
  });

  it("knows the methods of each endpoint", () => {
    expect(allowedMethods({ kind: "info" })).toEqual(["OPTIONS", "GET"]);
    expect(allowedMethods({ kind: "session", sessionId: "s", transport: "xhr" })).toEqual(["OPTIONS", "POST"]);
    expect(allowedMethods({ kind: "session", sessionId: "s", transport: "websocket" })).toEqual(["GET"]);
    expect(allowedMethods({ kind: "session", sessionId: "s", transport: "jsonp_send" })).toEqual(["POST"]);
  });
});

it("builds the iframe page with the configured client URL, attribute-escaped", () => {
  expect(iframePage("/lib/sockjs.min.js")).toContain('<script src="/lib/sockjs.min.js"></script>');
  expect(iframePage('/x"><script>')).toContain('src="/x&quot;>&lt;script>"');
  // The client script first, then bootstrap_iframe() (as sockjs-node and Spring serve it).
  expect(iframePage("/a")).toMatch(
    /^<!DOCTYPE html>[\s\S]*<script src="\/a"><\/script>\s*<script>[\s\S]*SockJS\.bootstrap_iframe\(\);[\s\S]*<\/html>$/,
  );
});
