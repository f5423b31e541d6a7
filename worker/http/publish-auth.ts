import { bearerCredential } from "../auth/credentials";
import { tokensMatch } from "../auth/publish-token";
import { hasTokenKeys } from "../auth/subscriber-token";
import { readConfig } from "../config";
import type { Env } from "../env";
import { bearerGrant, throttledCheck, unauthorized } from "./bearer";
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

/**
 * An operator's read access (`/healthz` details): the read-only METRICS_TOKEN, or anything
 * that may publish. Undefined when granted, else the answer, as checkPublishToken's.
 */
export async function checkOperator(env: Env, request: Request): Promise<Response | undefined> {
  const credential = bearerCredential(request.headers.get("Authorization") ?? "");
  if (credential && env.METRICS_TOKEN && (await tokensMatch(credential, env.METRICS_TOKEN))) {
    const passed = await throttledCheck(env, request, credential, Date.now(), async () => true);
    return passed instanceof Response ? passed : undefined;
  }
  return checkPublishToken(env, request);
}
