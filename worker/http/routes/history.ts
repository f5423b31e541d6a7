import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { normalizeSymbol, SymbolError } from "../../market/symbol";
import { tickerStub } from "../../objects/stubs";
import { apiCors } from "../cors";
import { reject } from "../reply";

const DEFAULT_LIMIT = 100;

/** `GET /api/history/{SYMBOL}?limit=N`: the last N ticks, oldest first. */
export const historyRoutes = new Hono<{ Bindings: Env }>().get("/api/history/:symbol", async (c) => {
  let symbol: string;
  try {
    symbol = normalizeSymbol(c.req.param("symbol"));
  } catch (err) {
    if (err instanceof SymbolError) return reject(400, err.message);
    throw err;
  }
  const max = readConfig(c.env).historySize;
  const raw = c.req.query("limit");
  const limit = raw === undefined ? Math.min(DEFAULT_LIMIT, max) : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) return reject(400, `limit must be an integer from 1 to ${max}`);
  const ticks = await tickerStub(c.env, symbol).history(limit);
  return c.json({ symbol, ticks }, 200, { "cache-control": "no-store", ...apiCors(c) });
});
