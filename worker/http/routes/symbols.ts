import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { isUnavailable } from "../../feeds/unavailable";
import { notCarried, type SymbolCheck } from "../../market/symbol-policy";
import { sourceStub } from "../../objects/stubs";
import { apiCors } from "../cors";
import { delayOrReject } from "../market-view";
import { symbolsOrReject } from "../reply";

/**
 * `GET /api/symbols?symbols=A,B`: each symbol's check, in the order asked. Clients ask
 * before subscribing, since a STOMP subscription to a symbol without prices ends the whole
 * connection with an ERROR (STOMP has no per-subscription error). Needs a token only in
 * AUTH_MODE=token, like the rest of the market-data API; says nothing about prices.
 */
export const symbolRoutes = new Hono<{ Bindings: Env }>().get("/api/symbols", async (c) => {
  const config = readConfig(c.env);
  const symbols = symbolsOrReject(c.req.query("symbols"));
  if (symbols instanceof Response) return symbols;
  const denied = await delayOrReject(c.env, c.req.raw, []);
  if (denied instanceof Response) return denied;
  const checks = await Promise.all(
    symbols.map(async (symbol): Promise<SymbolCheck> => {
      if (!config.symbols.allows(symbol)) return { symbol, status: "not-carried", reason: notCarried(symbol) };
      const result = await sourceStub(c.env, symbol).latestTick();
      if (!isUnavailable(result)) return { symbol, status: "known" };
      return { symbol, status: result.unavailable === "unknown" ? "unknown" : "unavailable", reason: result.reason };
    }),
  );
  return c.json({ symbols: checks }, 200, { "cache-control": "no-store", ...apiCors(c) });
});
