import { Hono } from "hono";
import type { Env } from "../../env";
import { normalizeSymbol, SymbolError } from "../../market/symbol";
import { tickerStub } from "../../objects/stubs";
import { apiCors } from "../cors";
import { reject } from "../reply";

const MAX_SYMBOLS = 50;

/** `GET /api/quotes?symbols=AAPL,MSFT`: the latest tick of each symbol, in the order asked. */
export const quoteRoutes = new Hono<{ Bindings: Env }>().get("/api/quotes", async (c) => {
  const raw = c.req.query("symbols");
  if (!raw) return reject(400, "symbols query parameter is required, e.g. ?symbols=AAPL,MSFT");
  let symbols: string[];
  try {
    symbols = [...new Set(raw.split(",").filter((s) => s.trim() !== "").map(normalizeSymbol))];
  } catch (err) {
    if (err instanceof SymbolError) return reject(400, err.message);
    throw err;
  }
  if (symbols.length === 0 || symbols.length > MAX_SYMBOLS) return reject(400, `ask for 1 to ${MAX_SYMBOLS} symbols`);
  const quotes = await Promise.all(symbols.map((s) => tickerStub(c.env, s).latestTick()));
  return c.json({ quotes }, 200, { "cache-control": "no-store", ...apiCors(c) });
});
