import { Hono } from "hono";
import { grantsSymbol } from "../../auth/grant";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { notCarried, type SymbolCheck } from "../../market/symbol-policy";
import { symbolGate } from "../../objects/symbol-gate";
import { apiCors } from "../cors";
import { viewerOrReject } from "../market-view";
import { symbolsOrReject } from "../reply";

/**
 * `GET /api/symbols?symbols=A,B`: each symbol's check, in the order asked. Clients ask
 * before subscribing, since a STOMP subscription to a symbol without prices ends the whole
 * connection with an ERROR (STOMP has no per-subscription error). Needs a token only in
 * AUTH_MODE=token, like the rest of the market-data API; a token's `sym` list is honoured
 * (`not-entitled`). Says nothing about prices, and never makes a symbol's object.
 */
export const symbolRoutes = new Hono<{ Bindings: Env }>().get("/api/symbols", async (c) => {
  const config = readConfig(c.env);
  const symbols = symbolsOrReject(c.req.query("symbols"));
  if (symbols instanceof Response) return symbols;
  const viewer = await viewerOrReject(c.env, c.req.raw);
  if (viewer instanceof Response) return viewer;
  const gate = symbolGate(c.env);
  const checks = await Promise.all(
    symbols.map(async (symbol): Promise<SymbolCheck> => {
      if (!config.symbols.allows(symbol)) return { symbol, status: "not-carried", reason: notCarried(symbol) };
      if (!grantsSymbol(viewer.grant, symbol))
        return { symbol, status: "not-entitled", reason: `your token does not cover ${symbol}` };
      const admission = await gate.admit(symbol);
      if ("known" in admission) return { symbol, status: "known" };
      const status = admission.unavailable === "unknown" ? "unknown" : "unavailable";
      return { symbol, status, reason: admission.reason };
    }),
  );
  return c.json({ symbols: checks }, 200, { "cache-control": "no-store", ...apiCors(c) });
});
