import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { entryOf } from "../multimap";
import type { Grant } from "./grant";

/**
 * Verifies subscriber tokens (JWT) with jose, never by hand. Each configured key is used
 * only with its own algorithm: the shared secret with HS256, a PEM public key with ES256 or
 * RS256 (whichever it is), a JWKS with its keys' algorithms. So `alg:none` and algorithm
 * confusion (an HS256 token "signed" with the public key) are refused. `exp` is required.
 */

export interface TokenKeys {
  /** AUTH_JWT_SECRET: HS256 shared secret. */
  secret?: string;
  /** AUTH_JWT_PUBLIC_KEY: SPKI PEM of an ES256 (P-256) or RS256 key. */
  publicKey?: string;
  /** AUTH_JWKS: a JSON Web Key Set, inline. */
  jwks?: string;
  /** AUTH_AUDIENCE / AUTH_ISSUER: required `aud` / `iss` when set. */
  audience?: string;
  issuer?: string;
}

/** A token was refused; `message` is the one-line reason the client gets. */
export class TokenError extends Error {}

/** Longest `sym` list: the grant lives in a 16 KiB hibernation attachment beside the subscriptions. */
const MAX_SYMBOL_PATTERNS = 200;
/** Longest `sub` accepted: it lives in the session's hibernation attachment. */
const MAX_SUBJECT = 256;
const SYMBOL_PATTERN = /^[A-Za-z0-9.\-^=*]{1,16}$/;
const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** Whether a presented credential has the shape of a JWT (otherwise it may be the shared publish token). */
export function looksLikeJwt(token: string): boolean {
  return COMPACT_JWT.test(token);
}

export function hasTokenKeys(keys: TokenKeys): boolean {
  return Boolean(keys.secret || keys.publicKey || keys.jwks);
}

interface Verifier {
  algorithms: string[];
  key: Uint8Array | CryptoKey | JWTVerifyGetKey;
}

export class TokenVerifier {
  private constructor(
    private readonly verifiers: Verifier[],
    private readonly keys: TokenKeys,
  ) {}

  /** Imports the configured keys; a key that cannot be read fails here, loudly. */
  static async create(keys: TokenKeys): Promise<TokenVerifier> {
    const verifiers: Verifier[] = [];
    if (keys.secret) verifiers.push({ algorithms: ["HS256"], key: new TextEncoder().encode(keys.secret) });
    if (keys.publicKey) verifiers.push(await importPublicKey(keys.publicKey));
    if (keys.jwks) {
      let set: { keys: unknown[] };
      try {
        set = JSON.parse(keys.jwks) as { keys: unknown[] };
      } catch {
        throw new Error("config AUTH_JWKS is not valid JSON");
      }
      verifiers.push({
        algorithms: ["ES256", "RS256"],
        key: createLocalJWKSet(set as Parameters<typeof createLocalJWKSet>[0]),
      });
    }
    return new TokenVerifier(verifiers, keys);
  }

  /** The grant a token carries, checked at `now` (epoch ms), or a TokenError with the reason. */
  async verify(token: string, now: number): Promise<Grant> {
    if (!looksLikeJwt(token)) throw new TokenError("Invalid token: not a JWT");
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenError("Invalid token: unreadable header");
    }
    const verifier = this.verifiers.find((v) => alg !== undefined && v.algorithms.includes(alg));
    if (!verifier) throw new TokenError(`Invalid token: algorithm ${String(alg).slice(0, 16)} is not accepted`);
    const options = {
      algorithms: verifier.algorithms,
      currentDate: new Date(now),
      requiredClaims: ["exp"],
      ...(this.keys.audience ? { audience: this.keys.audience } : {}),
      ...(this.keys.issuer ? { issuer: this.keys.issuer } : {}),
    };
    let payload: JWTPayload;
    try {
      const { key } = verifier;
      ({ payload } =
        typeof key === "function" ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
    } catch (err) {
      throw new TokenError(reasonFor(err));
    }
    return grantOf(payload);
  }
}

async function importPublicKey(pem: string): Promise<Verifier> {
  // A PEM in a one-line var may carry its line breaks as "\n".
  const text = pem.replace(/\\n/g, "\n").trim();
  for (const alg of ["ES256", "RS256"]) {
    try {
      return { algorithms: [alg], key: await importSPKI(text, alg) };
    } catch {
      // Not this kind of key: try the next.
    }
  }
  throw new Error("config AUTH_JWT_PUBLIC_KEY is not an SPKI PEM of a P-256 (ES256) or RSA (RS256) public key");
}

const verifiers = new Map<string, Promise<TokenVerifier>>();

/** The verifier for `keys`, made once per isolate (importing keys is async and not free). */
export function tokenVerifier(keys: TokenKeys): Promise<TokenVerifier> {
  const id = JSON.stringify(keys);
  return entryOf(verifiers, id, () => TokenVerifier.create(keys));
}

function reasonFor(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "Token expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return "Token not yet valid";
    if (err.claim === "aud") return "Invalid token: wrong audience";
    if (err.claim === "iss") return "Invalid token: wrong issuer";
    if (err.claim === "exp" && err.reason === "missing") return "Invalid token: it has no exp claim";
    return `Invalid token: bad ${err.claim} claim`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return "Invalid token: bad signature";
  if (err instanceof errors.JOSEAlgNotAllowed) return "Invalid token: algorithm not accepted";
  if (err instanceof errors.JWKSNoMatchingKey) return "Invalid token: no matching key";
  if (err instanceof errors.JOSEError) return "Invalid token: malformed";
  throw err;
}

/** The documented claims, checked for type: a claim of the wrong type is refused, not ignored. */
function grantOf(payload: JWTPayload): Grant {
  const grant: Grant = {
    realtime: flag(payload, "rt"),
    publisher: flag(payload, "pub"),
    expiresAt: payload.exp! * 1000,
  };
  if (payload.sub !== undefined) {
    // Kept whole (a refresh must be for the same subject, compared in full), so bounded here.
    if (typeof payload.sub !== "string" || payload.sub.length > MAX_SUBJECT)
      throw new TokenError(`Invalid token: sub must be a string of at most ${MAX_SUBJECT} characters`);
    grant.subject = payload.sub;
  }
  const sym = payload.sym;
  if (sym !== undefined) {
    const list = typeof sym === "string" ? sym.split(",").map((s) => s.trim()) : sym;
    if (
      !Array.isArray(list) ||
      list.length > MAX_SYMBOL_PATTERNS ||
      !list.every((s) => typeof s === "string" && SYMBOL_PATTERN.test(s))
    ) {
      throw new TokenError(
        `Invalid token: sym must be up to ${MAX_SYMBOL_PATTERNS} symbols or patterns such as "AAPL" or "*-USD"`,
      );
    }
    grant.symbols = (list as string[]).map((s) => s.toUpperCase());
  }
  return grant;
}

function flag(payload: JWTPayload, claim: string): boolean {
  const value = payload[claim];
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new TokenError(`Invalid token: ${claim} must be true or false`);
  return value;
}
