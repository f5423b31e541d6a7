import { describe, expect, it } from "vitest";
import { FrameDecoder } from "../../worker/protocol/stomp/decoder";
import { encodeFrame } from "../../worker/protocol/stomp/encoder";
import { StompError } from "../../worker/protocol/stomp/errors";
import { escapeHeader, unescapeHeader } from "../../worker/protocol/stomp/escape";
import { type Frame, header } from "../../worker/protocol/stomp/frame";

const text = (f: Frame) => new TextDecoder().decode(f.body);
const decoder = (max = 4096) => new FrameDecoder({ maxFrameBytes: max });

function errorOf(fn: () => unknown): StompError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StompError) return err;
    throw err;
  }
  throw new Error("expected a StompError");
}

describe("FrameDecoder", () => {
  it("decodes every client command", () => {
    for (const command of [
      "CONNECT",
      "STOMP",
      "SEND",
      "SUBSCRIBE",
      "UNSUBSCRIBE",
      "ACK",
      "NACK",
      "BEGIN",
      "COMMIT",
      "ABORT",
      "DISCONNECT",
    ]) {
      const [f] = decoder().push(`${command}\nk:v\n\nbody\0`);
      expect(f).toMatchObject({ command, headers: [["k", "v"]] });
      expect(text(f!)).toBe("body");
    }
  });

  it("accepts CRLF line endings and skips heart-beat EOLs between frames", () => {
    const frames = decoder().push("\n\r\nSEND\r\ndestination:/a\r\n\r\nx\0\n\nSEND\ndestination:/b\n\ny\0\r\n");
    expect(frames.map((f) => header(f, "destination"))).toEqual(["/a", "/b"]);
  });

  it("reassembles a frame split over many chunks, byte by byte", () => {
    const d = decoder();
    const wire = new TextEncoder().encode("SEND\ndestination:/topic/ticker.€\n\nprix: 12€\0");
    const out: Frame[] = [];
    for (const byte of wire) out.push(...d.push(new Uint8Array([byte])));
    expect(out).toHaveLength(1);
    expect(header(out[0]!, "destination")).toBe("/topic/ticker.€");
    expect(text(out[0]!)).toBe("prix: 12€");
    expect(d.pending).toBe(0);
  });

  it("decodes several frames packed in one chunk and keeps a trailing partial one", () => {
    const d = decoder();
    expect(d.push("SEND\n\na\0SEND\n\nb\0SEND\n\nc").map(text)).toEqual(["a", "b"]);
    expect(d.push("\0").map(text)).toEqual(["c"]);
  });

  it("reads exactly content-length octets, so bodies may contain NUL", () => {
    const body = "a\0b\0€";
    const len = new TextEncoder().encode(body).length;
    const [f, g] = decoder().push(`SEND\ncontent-length:${len}\n\n${body}\0SEND\n\nnext\0`);
    expect(text(f!)).toBe(body);
    expect(text(g!)).toBe("next");
  });

  it("waits for the whole content-length body across chunks", () => {
    const d = decoder();
    expect(d.push("SEND\ncontent-length:6\n\nab\0")).toEqual([]);
    expect(d.push("cd\0")).toEqual([]);
    expect(d.push("\0").map(text)).toEqual(["ab\0cd\0"]);
  });

  it("uses the first of repeated headers", () => {
    const [f] = decoder().push("SEND\nfoo:first\nfoo:second\n\n\0");
    expect(header(f!, "foo")).toBe("first");
    expect(f!.headers).toHaveLength(2);
  });

  it("unescapes headers per version, but never in CONNECT", () => {
    const d = decoder();
    expect(header(d.push("SEND\nk:a\\cb\\nc\\\\d\\re\n\n\0")[0]!, "k")).toBe("a:b\nc\\d\re");
    expect(header(d.push("CONNECT\npasscode:a\\cb\n\n\0")[0]!, "passcode")).toBe("a\\cb");
    d.version = "1.0";
    expect(header(d.push("SEND\nk:a\\cb\n\n\0")[0]!, "k")).toBe("a\\cb");
    d.version = "1.1";
    expect(errorOf(() => d.push("SEND\nk:a\\rb\n\n\0")).message).toBe("Invalid header escape");
  });

  it("keeps colons after the first in a header value", () => {
    const d = decoder();
    d.version = "1.0";
    expect(header(d.push("SEND\nurl:http://x:1/\n\n\0")[0]!, "url")).toBe("http://x:1/");
  });

  const bad: Array<[string, string, string]> = [
    ["garbage", "GET / HTTP/1.1\r\n\r\n\0", "Unknown command"],
    ["an unknown command", "FROB\n\n\0", "Unknown command"],
    ["a long line with no EOL", "x".repeat(64), "Unknown command"],
    ["a header without a colon", "SEND\nnocolon\n\n\0", "Malformed header"],
    ["an empty header name", "SEND\n:v\n\n\0", "Malformed header"],
    ["an undefined escape", "SEND\nk:\\t\n\n\0", "Invalid header escape"],
    ["a trailing backslash", "SEND\nk:abc\\\n\n\0", "Invalid header escape"],
    ["a non-numeric content-length", "SEND\ncontent-length:ten\n\n\0", "Invalid content-length"],
    ["a body longer than content-length", "SEND\ncontent-length:1\n\nab\0", "Frame not terminated"],
  ];
  for (const [name, wire, message] of bad) {
    it(`rejects ${name}`, () => {
      expect(errorOf(() => decoder().push(wire)).message).toBe(message);
    });
  }

  it("rejects invalid UTF-8 bytes in headers", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("SEND\nk:"), 0xff, 0x0a, 0x0a, 0x00]);
    expect(errorOf(() => decoder().push(bytes)).message).toBe("Invalid UTF-8");
  });

  it("rejects frames over the size limit: by content-length, by body and by unterminated headers", () => {
    expect(errorOf(() => decoder(100).push("SEND\ncontent-length:500\n\n")).message).toBe("Frame too large");
    expect(errorOf(() => decoder(100).push(`SEND\n\n${"x".repeat(200)}`)).message).toBe("Frame too large");
    expect(errorOf(() => decoder(100).push(`SEND\n${"k:v\n".repeat(40)}`)).message).toBe("Frame too large");
    expect(errorOf(() => decoder(100).push(`SEND\n\n${"x".repeat(200)}\0`)).closeCode).toBe(1009);
  });

  it("rejects more headers than allowed", () => {
    const d = new FrameDecoder({ maxFrameBytes: 1 << 20, maxHeaders: 3 });
    expect(errorOf(() => d.push(`SEND\n${"k:v\n".repeat(4)}\n\0`)).message).toBe("Too many headers");
  });
});

describe("encodeFrame", () => {
  it("adds content-length in octets and terminates with NUL", () => {
    expect(encodeFrame("MESSAGE", [["destination", "/x"]], "€")).toBe(
      "MESSAGE\ndestination:/x\ncontent-length:3\n\n€\0",
    );
    expect(encodeFrame("RECEIPT", [["receipt-id", "1"]])).toBe("RECEIPT\nreceipt-id:1\n\n\0");
  });

  it("escapes per version and never in CONNECTED", () => {
    expect(encodeFrame("ERROR", [["message", "a:b\nc\\d\re"]], "", "1.2")).toBe(
      "ERROR\nmessage:a\\cb\\nc\\\\d\\re\n\n\0",
    );
    expect(encodeFrame("ERROR", [["message", "a:b\re"]], "", "1.1")).toBe("ERROR\nmessage:a\\cb\re\n\n\0");
    expect(encodeFrame("ERROR", [["message", "a:b"]], "", "1.0")).toBe("ERROR\nmessage:a:b\n\n\0");
    expect(encodeFrame("CONNECTED", [["session", "a:b"]], "", "1.2")).toBe("CONNECTED\nsession:a:b\n\n\0");
  });

  it("round-trips through the decoder, NUL in the body included", () => {
    const d = new FrameDecoder({ maxFrameBytes: 4096, commands: new Set(["MESSAGE"]) });
    const [f] = d.push(encodeFrame("MESSAGE", [["subscription", "id:with\\odd\nchars"]], "x\0y"));
    expect(header(f!, "subscription")).toBe("id:with\\odd\nchars");
    expect(text(f!)).toBe("x\0y");
  });
});

describe("header escaping", () => {
  it("is the inverse of unescaping in 1.1 and 1.2", () => {
    for (const v of ["1.1", "1.2"] as const) {
      const value = v === "1.2" ? "a:b\\c\nd\re" : "a:b\\c\nd";
      expect(unescapeHeader(escapeHeader(value, v), v)).toBe(value);
    }
  });
});
