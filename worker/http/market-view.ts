import type { Grant } from "../auth/grant";
import { grantsSymbol, seesRealtime } from "../auth/grant";
import { readConfig } from "../config";
import type { Env } from "../env";
import { isUnavailable } from "../feeds/unavailable";
import { symbolGate } from "../objects/symbol-gate";
import { bearerGrant, unauthorized } from "./bearer";
import { reject, unavailable } from "./reply";

/** Who is asking: their grant (none: the public), or the answer when they may not ask at all. */
export async function viewerOrReject(env: Env, request: Request): Promise<{ grant?: Grant } | Response> {
  const grant = await bearerGrant(env, request);
  if (grant instanceof Response) return grant;
  if (!grant && readConfig(env).auth.mode === "token")
    return unauthorized("auth-required", "a token is required: Authorization: Bearer <token>");
  return grant ? { grant } : {};
}

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
  const viewer = await viewerOrReject(env, request);
  if (viewer instanceof Response) return viewer;
  const outside = symbols.find((s) => !grantsSymbol(viewer.grant, s));
  if (outside) return reject("not-entitled", `your token does not cover ${outside}`);
  const { publicDelayMs } = readConfig(env).auth;
  return seesRealtime(viewer.grant, publicDelayMs) ? 0 : publicDelayMs;
}

/**
 * Nothing persists for a symbol until it is real: the answer (404 unknown, 503 budget busy,
 * 502 provider failing) when one of `symbols` is not, before any of their objects is asked.
 */
export async function unrealOrUndefined(env: Env, symbols: readonly string[]): Promise<Response | undefined> {
  const gate = symbolGate(env);
  const refused = (await Promise.all(symbols.map((s) => gate.admit(s)))).find(isUnavailable);
  return refused ? unavailable(refused) : undefined;
}
