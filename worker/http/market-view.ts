import { grantsSymbol, seesRealtime } from "../auth/grant";
import { readConfig } from "../config";
import type { Env } from "../env";
import { bearerGrant, unauthorized } from "./bearer";
import { reject } from "./reply";

/**
 * How late a market-data request (`/api/quotes`, `/api/history`) sees prices: live with a
 * real-time token, else PUBLIC_DELAY_MS late, as on a STOMP connection. The answer instead
 * when it may not see them: no token in AUTH_MODE=token (401), a bad token (401), or a
 * symbol its token does not cover (403).
 */
export async function delayOrReject(
  env: Env,
  request: Request,
  symbols: readonly string[],
): Promise<number | Response> {
  const { mode, publicDelayMs } = readConfig(env).auth;
  const grant = await bearerGrant(env, request);
  if (grant instanceof Response) return grant;
  if (!grant && mode === "token")
    return unauthorized("auth-required", "a token is required: Authorization: Bearer <token>");
  const outside = symbols.find((s) => !grantsSymbol(grant, s));
  if (outside) return reject("not-entitled", `your token does not cover ${outside}`);
  return seesRealtime(grant, publicDelayMs) ? 0 : publicDelayMs;
}
