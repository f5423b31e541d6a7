import { hasTokenKeys } from "../auth/subscriber-token";
import { readConfig } from "../config";
import type { Env } from "../env";
import { bearerGrant, unauthorized } from "./bearer";
import { reject } from "./reply";

/**
 * Checks `Authorization: Bearer` for the right to publish: the publish token, or a token
 * with `pub:true`. Undefined when granted, else the answer (401 without a valid credential,
 * 403 when it does not grant publishing or publishing is not configured, 429 after
 * repeated failures).
 */
export async function checkPublishToken(env: Env, request: Request): Promise<Response | undefined> {
  if (!env.PUBLISH_TOKEN && !hasTokenKeys(readConfig(env).auth.keys)) {
    return reject("publishing-disabled", "publishing is disabled: no PUBLISH_TOKEN is configured");
  }
  const grant = await bearerGrant(env, request);
  if (grant instanceof Response) return grant;
  if (!grant) return unauthorized("auth-required", "missing Authorization: Bearer <publish token>");
  return grant.publisher ? undefined : reject("not-publisher", "this token does not grant publishing (pub)");
}
