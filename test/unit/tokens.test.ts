/**
 * Subscriber tokens, verified by jose with fixed keys and a fixed clock; and what a grant
 * allows. No runtime, no I/O.
 */
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { grantsSymbol, seesRealtime } from "../../worker/auth/grant";
import { TokenError, TokenVerifier } from "../../worker/auth/subscriber-token";
import { ES256_SPKI, RS256_SPKI, signToken, TEST_JWKS, TEST_SECRET, unsignedToken } from "../support/tokens";

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const at = { now: NOW };

async function refusal(verifier: TokenVerifier, token: string, now = NOW): Promise<string> {
  const err = await verifier.verify(token, now).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenError);
  return (err as TokenError).message;
}

describe("subscriber tokens (HS256 shared secret)", () => {
  const verifier = TokenVerifier.create({ secret: TEST_SECRET });

  it("reads the documented claims into a grant", async () => {
    const token = await signToken({ sub: "user-1", rt: true, sym: ["AAPL", "*-USD"], pub: false }, at);
    expect(await (await verifier).verify(token, NOW)).toEqual({
      subject: "user-1",
      expiresAt: (Math.floor(NOW / 1000) + 600) * 1000,
      realtime: true,
      symbols: ["AAPL", "*-USD"],
      publisher: false,
    });
    // Absent claims grant nothing extra (and every symbol).
    const plain = await (await verifier).verify(await signToken({}, at), NOW);
    expect(plain).toMatchObject({ realtime: false, publisher: false });
    expect(plain.symbols).toBeUndefined();
  });

  it("keeps the whole subject (a refresh compares it in full), and refuses one too long to keep", async () => {
    const long = `${"u".repeat(200)}-alice`;
    expect((await (await verifier).verify(await signToken({ sub: long }, at), NOW)).subject).toBe(long);
    expect(await refusal(await verifier, await signToken({ sub: "u".repeat(257) }, at))).toBe(
      "Invalid token: sub must be a string of at most 256 characters",
    );
  });

  it("refuses a wrong signature, alg:none, expiry, not-yet-valid and a missing exp, each with its reason", async () => {
    const v = await verifier;
    expect(await refusal(v, await signToken({ rt: true }, { ...at, secret: "another-secret" }))).toBe(
      "Invalid token: bad signature",
    );
    expect(await refusal(v, unsignedToken({ rt: true, exp: Math.floor(NOW / 1000) + 600 }))).toBe(
      "Invalid token: algorithm none is not accepted",
    );
    const expired = await signToken({}, { now: NOW - 700_000 });
    expect(await refusal(v, expired)).toBe("Token expired");
    // Valid one second before its exp, expired at it.
    const short = await signToken({}, { ...at, expiresIn: 10 });
    await expect(v.verify(short, NOW + 9_000)).resolves.toBeDefined();
    expect(await refusal(v, short, NOW + 10_000)).toBe("Token expired");
    expect(await refusal(v, await signToken({ nbf: Math.floor(NOW / 1000) + 60 }, at))).toBe("Token not yet valid");
    expect(await refusal(v, await signToken({}, { ...at, expiresIn: null }))).toBe(
      "Invalid token: it has no exp claim",
    );
    expect(await refusal(v, "not-a-token")).toBe("Invalid token: not a JWT");
    expect(await refusal(v, "abc.def.ghi")).toBe("Invalid token: unreadable header");
  });

  it("refuses claims of the wrong type instead of ignoring them", async () => {
    const v = await verifier;
    expect(await refusal(v, await signToken({ rt: "yes" }, at))).toBe("Invalid token: rt must be true or false");
    expect(await refusal(v, await signToken({ pub: 1 }, at))).toBe("Invalid token: pub must be true or false");
    expect(await refusal(v, await signToken({ sym: [42] }, at))).toMatch(/^Invalid token: sym must be/);
    expect(await refusal(v, await signToken({ sym: ["A B"] }, at))).toMatch(/^Invalid token: sym must be/);
    expect(await refusal(v, await signToken({ sym: Array.from({ length: 201 }, (_, i) => `S${i}`) }, at))).toMatch(
      /^Invalid token: sym must be/,
    );
    // A comma-separated string is a list too.
    expect((await v.verify(await signToken({ sym: "aapl, msft" }, at), NOW)).symbols).toEqual(["AAPL", "MSFT"]);
  });

  it("checks audience and issuer when configured", async () => {
    const v = await TokenVerifier.create({
      secret: TEST_SECRET,
      audience: "edge-ticker",
      issuer: "https://site.example",
    });
    const good = await signToken({ aud: "edge-ticker", iss: "https://site.example" }, at);
    await expect(v.verify(good, NOW)).resolves.toBeDefined();
    expect(await refusal(v, await signToken({ aud: "someone-else", iss: "https://site.example" }, at))).toBe(
      "Invalid token: wrong audience",
    );
    expect(await refusal(v, await signToken({ aud: "edge-ticker", iss: "https://evil.example" }, at))).toBe(
      "Invalid token: wrong issuer",
    );
    expect(await refusal(v, await signToken({}, at))).toMatch(/^Invalid token: (wrong|bad)/);
  });
});

describe("subscriber tokens (public keys)", () => {
  it("verifies ES256 and RS256 with a PEM public key, and only with that key's algorithm", async () => {
    const es = await TokenVerifier.create({ publicKey: ES256_SPKI });
    expect((await es.verify(await signToken({ rt: true }, { ...at, alg: "ES256" }), NOW)).realtime).toBe(true);
    expect(await refusal(es, await signToken({}, { ...at, alg: "RS256" }))).toBe(
      "Invalid token: algorithm RS256 is not accepted",
    );
    // A PEM given on one line with "\n" escapes works too.
    const rs = await TokenVerifier.create({ publicKey: RS256_SPKI.replace(/\n/g, "\\n") });
    expect((await rs.verify(await signToken({ pub: true }, { ...at, alg: "RS256" }), NOW)).publisher).toBe(true);
  });

  it("refuses algorithm confusion: an HS256 token keyed with the public key's PEM", async () => {
    const rs = await TokenVerifier.create({ publicKey: RS256_SPKI });
    const forged = await new SignJWT({ rt: true, exp: Math.floor(NOW / 1000) + 600 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(RS256_SPKI));
    expect(await refusal(rs, forged)).toBe("Invalid token: algorithm HS256 is not accepted");
  });

  it("verifies with an inline JWKS, picking the key by kid", async () => {
    const v = await TokenVerifier.create({ jwks: TEST_JWKS });
    await expect(v.verify(await signToken({}, { ...at, alg: "ES256" }), NOW)).resolves.toBeDefined();
    await expect(v.verify(await signToken({}, { ...at, alg: "RS256" }), NOW)).resolves.toBeDefined();
    expect(await refusal(v, await signToken({}, { ...at, alg: "ES256", kid: "unknown-kid" }))).toBe(
      "Invalid token: no matching key",
    );
    expect(await refusal(v, await signToken({}, at))).toBe("Invalid token: algorithm HS256 is not accepted");
  });

  it("fails loudly on a key it cannot read", async () => {
    await expect(
      TokenVerifier.create({ publicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" }),
    ).rejects.toThrow(/AUTH_JWT_PUBLIC_KEY/);
    await expect(TokenVerifier.create({ jwks: "{not json" })).rejects.toThrow(/AUTH_JWKS/);
  });
});

describe("grants", () => {
  it("limits symbols to the sym list and its patterns", () => {
    const grant = { realtime: false, publisher: false, symbols: ["AAPL", "*-USD"] };
    expect(grantsSymbol(grant, "AAPL")).toBe(true);
    expect(grantsSymbol(grant, "BTC-USD")).toBe(true);
    expect(grantsSymbol(grant, "MSFT")).toBe(false);
    expect(grantsSymbol(grant, "AAPLX")).toBe(false);
    expect(grantsSymbol(undefined, "MSFT")).toBe(true);
    expect(grantsSymbol({ realtime: true, publisher: false, symbols: [] }, "MSFT")).toBe(false);
  });

  it("sees real time only with rt, unless nothing is delayed", () => {
    expect(seesRealtime(undefined, 0)).toBe(true);
    expect(seesRealtime(undefined, 900_000)).toBe(false);
    expect(seesRealtime({ realtime: false, publisher: false }, 900_000)).toBe(false);
    expect(seesRealtime({ realtime: true, publisher: false }, 900_000)).toBe(true);
  });
});
