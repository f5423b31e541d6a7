import { bearerCredential, grantFor } from "../auth/credentials";
import { Throttled } from "../auth/failure-throttle";
import type { Grant } from "../auth/grant";
import { TokenError } from "../auth/subscriber-token";
import { readConfig } from "../config";
import type { Env } from "../env";
import { credentialThrottle } from "../objects/credential-guard";
import { edgeAddress } from "../transports/client-address";
import { reject } from "./reply";

/**
 * The grant of a request's `Authorization: Bearer <credential>` (a subscriber token or
 * the publish token): undefined without the header, the answer when it is refused
 * (401 with the reason, 429 after repeated failures from one address).
 */
export async function bearerGrant(env: Env, request: Request): Promise<Grant | undefined | Response> {
  const auth = request.headers.get("Authorization");
  if (!auth) return undefined;
  const credential = bearerCredential(auth);
  if (!credential) return unauthorized("invalid-token", "expected Authorization: Bearer <token>");
  const now = Date.now();
  return throttledCheck(env, request, credential, now, () => grantFor(env, readConfig(env).auth.keys, credential, now));
}

/**
 * Runs a credential check under the shared failure throttle (one count per client address
 * for every check in the service): its result, or the answer when it failed (401 with the
 * TokenError's reason, 429 after repeated failures).
 */
export async function throttledCheck<T>(
  env: Env,
  request: Request,
  credential: string,
  now: number,
  check: () => Promise<T>,
): Promise<T | Response> {
  const address = edgeAddress(request, readConfig(env).clientAddress);
  try {
    return await credentialThrottle(env).attempt(address, credential, now, check);
  } catch (err) {
    if (err instanceof Throttled) {
      return reject("too-many-failures", "too many failed attempts: try again later", {
        "Retry-After": String(Math.ceil(err.retryAfterMs / 1000)),
      });
    }
    if (!(err instanceof TokenError)) throw err;
    return unauthorized("invalid-token", err.message);
  }
}

export function unauthorized(code: "auth-required" | "invalid-token", reason: string): Response {
  return reject(code, reason, { "WWW-Authenticate": "Bearer" });
}
