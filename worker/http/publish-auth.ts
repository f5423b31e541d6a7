import { FailureThrottle } from "../auth/failure-throttle";
import { isPublishToken } from "../auth/publish-token";
import type { Env } from "../env";
import { reject } from "./reply";

/** Failed publish tokens per client address, in this isolate. */
const failures = new FailureThrottle();

/**
 * Checks `Authorization: Bearer <PUBLISH_TOKEN>`: undefined when it is right, else the
 * answer (401 without one, 403 wrong or none configured, 429 after repeated failures).
 */
export async function checkPublishToken(env: Env, request: Request): Promise<Response | undefined> {
  if (!env.PUBLISH_TOKEN) return reject(403, "publishing is disabled: no PUBLISH_TOKEN is configured");
  const auth = request.headers.get("Authorization");
  if (!auth) return reject(401, "missing Authorization: Bearer <publish token>", { "WWW-Authenticate": "Bearer" });
  const address = request.headers.get("CF-Connecting-IP") ?? "";
  const wait = failures.blockedFor(address, Date.now());
  if (wait > 0) return reject(429, "too many failed attempts: try again later", { "Retry-After": String(Math.ceil(wait / 1000)) });
  const token = /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  if (token && (await isPublishToken(env, token))) return undefined;
  failures.fail(address, Date.now());
  return reject(403, "invalid publish token");
}
