import { Hono } from "hono";
import type { Env } from "../../env";
import { sourceStub } from "../../objects/stubs";
import { apiCors } from "../cors";
import { symbolsOrReject } from "../reply";

/** `GET /api/quotes?symbols=AAPL,MSFT`: the latest tick of each symbol, in the order asked. */
export const quoteRoutes = new Hono<{ Bindings: Env }>().get("/api/quotes", async (c) => {
  const symbols = symbolsOrReject(c.req.query("symbols"));
  if (symbols instanceof Response) return symbols;
  const quotes = await Promise.all(symbols.map((s) => sourceStub(c.env, s).latestTick()));
  return c.json({ quotes }, 200, { "cache-control": "no-store", ...apiCors(c) });
});
