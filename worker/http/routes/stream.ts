import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { tickerStub } from "../../objects/stubs";
import { isOriginAllowed } from "../origin";
import { reject, symbolOrReject } from "../reply";

/**
 * `GET /ws/{SYMBOL}`: STOMP over a WebSocket held by the symbol's object. The raw
 * request is forwarded untouched (no Hono WebSocket helper, no header middleware:
 * the 101 response's headers are immutable).
 */
export const streamRoutes = new Hono<{ Bindings: Env }>().get("/ws/:symbol", async (c) => {
  const symbol = symbolOrReject(c.req.param("symbol"));
  if (symbol instanceof Response) return symbol;
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    return reject(426, "this endpoint speaks STOMP over WebSocket: send Upgrade: websocket", { Upgrade: "websocket" });
  }
  if (!isOriginAllowed(c.req.header("Origin") ?? null, c.req.url, readConfig(c.env))) {
    return reject(403, "origin not allowed: add it to ALLOWED_ORIGINS");
  }
  return tickerStub(c.env, symbol).fetch(c.req.raw);
});
