/** The error catalogues: each code documented with what a client sees, and carried on the wire. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HTTP_ERRORS } from "../../worker/http/errors";
import { reject } from "../../worker/http/reply";
import { STOMP_ERRORS } from "../../worker/protocol/stomp/errors";

const doc = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");

describe("the STOMP error catalogue", () => {
  it("is documented code by code, with its message and close code", () => {
    for (const [code, { message, closeCode }] of Object.entries(STOMP_ERRORS)) {
      expect(doc, code).toContain(`| \`${code}\` | ${message} | ${closeCode} |`);
    }
  });
});

describe("the HTTP error catalogue", () => {
  it("is documented code by code, with its status", () => {
    for (const [code, status] of Object.entries(HTTP_ERRORS))
      expect(doc, code).toContain(`| \`${code}\` | ${status} |`);
  });

  it("answers with the code's status, the code in x-error-code and a one-line reason", async () => {
    const res = reject("too-many-symbols", "ask for 1 to 50 symbols\r\nSet-Cookie: x");
    expect(res.status).toBe(400);
    expect(res.headers.get("x-error-code")).toBe("too-many-symbols");
    expect(await res.text()).toBe("ask for 1 to 50 symbols  Set-Cookie: x\n");
  });
});
