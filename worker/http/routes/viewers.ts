import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { sourceStub } from "../../objects/stubs";
import { apiCors } from "../cors";
import { symbolsOrReject } from "../reply";

/** `GET /api/viewers?symbols=A,B`: live subscriptions of each symbol across every hub. */
export const viewerRoutes = new Hono<{ Bindings: Env }>().get("/api/viewers", async (c) => {
  const symbols = symbolsOrReject(c.req.query("symbols"), readConfig(c.env).symbols);
  if (symbols instanceof Response) return symbols;
  const counts = await Promise.all(symbols.map((s) => sourceStub(c.env, s).viewers()));
  return c.json({ viewers: Object.fromEntries(symbols.map((s, i) => [s, counts[i]])) }, 200, {
    "cache-control": "no-store",
    ...apiCors(c),
  });
});
