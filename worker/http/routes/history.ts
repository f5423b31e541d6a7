import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { isUnavailable } from "../../feeds/unavailable";
import { sourceStub } from "../../objects/stubs";
import { apiCors } from "../cors";
import { delayOrReject, unrealOrUndefined } from "../market-view";
import { reject, symbolOrReject, unavailable } from "../reply";

const DEFAULT_LIMIT = 100;

/** `GET /api/history/{SYMBOL}?limit=N`: the last N ticks, oldest first (the last N at least PUBLIC_DELAY_MS old without a real-time token). */
export const historyRoutes = new Hono<{ Bindings: Env }>().get("/api/history/:symbol", async (c) => {
  const config = readConfig(c.env);
  const symbol = symbolOrReject(c.req.param("symbol"), config.symbols);
  if (symbol instanceof Response) return symbol;
  const max = config.historySize;
  const raw = c.req.query("limit");
  const limit = raw === undefined ? Math.min(DEFAULT_LIMIT, max) : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    return reject("invalid-parameter", `limit must be an integer from 1 to ${max}`);
  const delayMs = await delayOrReject(c.env, c.req.raw, [symbol]);
  if (delayMs instanceof Response) return delayMs;
  const unreal = await unrealOrUndefined(c.env, [symbol]);
  if (unreal) return unreal;
  const result = await sourceStub(c.env, symbol).history(limit, delayMs);
  if (isUnavailable(result)) return unavailable(result);
  return c.json({ symbol, ticks: result.ticks }, 200, { "cache-control": "no-store", ...apiCors(c) });
});
