import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { isUnavailable } from "../../feeds/unavailable";
import { sourceStub } from "../../objects/stubs";
import { apiCors } from "../cors";
import { delayOrReject, unrealOrUndefined } from "../market-view";
import { symbolsOrReject, unavailable } from "../reply";

/**
 * `GET /api/quotes?symbols=AAPL,MSFT`: the latest tick of each symbol, in the order asked
 * (the newest at least PUBLIC_DELAY_MS old, marked delayed, without a real-time token).
 */
export const quoteRoutes = new Hono<{ Bindings: Env }>().get("/api/quotes", async (c) => {
  const symbols = symbolsOrReject(c.req.query("symbols"), readConfig(c.env).symbols);
  if (symbols instanceof Response) return symbols;
  const delayMs = await delayOrReject(c.env, c.req.raw, symbols);
  if (delayMs instanceof Response) return delayMs;
  const unreal = await unrealOrUndefined(c.env, symbols);
  if (unreal) return unreal;
  const results = await Promise.all(symbols.map((s) => sourceStub(c.env, s).latestTick(delayMs)));
  // One symbol without a price answers for the request, with its reason (never a 500).
  const quotes = [];
  for (const result of results) {
    if (isUnavailable(result)) return unavailable(result);
    quotes.push(result.tick);
  }
  return c.json({ quotes }, 200, { "cache-control": "no-store", ...apiCors(c) });
});
