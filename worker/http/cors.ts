import type { Context } from "hono";
import { readConfig } from "../config";
import type { Env } from "../env";
import { isOriginAllowed } from "./origin";

/**
 * CORS for the read-only JSON API: allowed origins (the widget's embedding sites) may
 * read it from a browser; others get no CORS headers, so their browsers refuse.
 */
export function apiCors(c: Context<{ Bindings: Env }>): Record<string, string> {
  const origin = c.req.header("Origin");
  if (!origin || !isOriginAllowed(origin, c.req.url, readConfig(c.env))) return {};
  return { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
}

/** Preflight of a cross-origin API request that sends a token (`Authorization` is not a simple header). */
export function apiPreflight(c: Context<{ Bindings: Env }>): Response {
  const allowed = apiCors(c);
  if (!allowed["Access-Control-Allow-Origin"]) return new Response(null, { status: 204 });
  return new Response(null, {
    status: 204,
    headers: {
      ...allowed,
      "Access-Control-Allow-Methods": "GET",
      "Access-Control-Allow-Headers": "Authorization",
      "Access-Control-Max-Age": "600",
    },
  });
}
