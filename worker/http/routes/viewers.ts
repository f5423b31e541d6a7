import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { sourceStub } from "../../objects/stubs";
import { symbolGate } from "../../objects/symbol-gate";
import { apiCors } from "../cors";
import { symbolsOrReject } from "../reply";

/**
 * `GET /api/viewers?symbols=A,B`: live subscriptions of each symbol across every hub. A
 * symbol that is not real has none, and its object is never asked (nor made).
 */
export const viewerRoutes = new Hono<{ Bindings: Env }>().get("/api/viewers", async (c) => {
  const symbols = symbolsOrReject(c.req.query("symbols"), readConfig(c.env).symbols);
  if (symbols instanceof Response) return symbols;
  const gate = symbolGate(c.env);
  const counts = await Promise.all(
    symbols.map(async (s) => ("known" in (await gate.admit(s, false)) ? sourceStub(c.env, s).viewers() : 0)),
  );
  return c.json({ viewers: Object.fromEntries(symbols.map((s, i) => [s, counts[i]])) }, 200, {
    "cache-control": "no-store",
    ...apiCors(c),
  });
});
