import type { Env } from "../env";
import { type Grant, PUBLISHER_GRANT } from "./grant";
import { isPublishToken } from "./publish-token";
import { hasTokenKeys, looksLikeJwt, TokenError, type TokenKeys, tokenVerifier } from "./subscriber-token";

/** The credential of an `Authorization: Bearer <credential>` value (HTTP or a STOMP CONNECT header), if it is one. */
export function bearerCredential(authorization: string): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

/**
 * What a presented credential allows: the shared PUBLISH_TOKEN (everything, no expiry)
 * or a subscriber token verified with the configured keys. Anything else is a TokenError
 * with the reason. The same check serves STOMP CONNECT and the HTTP API.
 */
export async function grantFor(env: Env, keys: TokenKeys, credential: string, now: number): Promise<Grant> {
  if (await isPublishToken(env, credential)) return PUBLISHER_GRANT;
  if (!looksLikeJwt(credential)) throw new TokenError("Bad credentials: neither a token nor the publish token");
  if (!hasTokenKeys(keys)) throw new TokenError("Invalid token: this server has no token keys configured");
  return (await tokenVerifier(keys)).verify(credential, now);
}
