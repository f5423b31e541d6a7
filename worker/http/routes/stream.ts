import { type Context, Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { RAW_WEBSOCKET } from "../../transports/sockjs/forwarding";
import { toHub } from "../hubs";
import { isOriginAllowed } from "../origin";
import { reject, symbolOrReject } from "../reply";

/**
 * `GET /ws`: STOMP over a WebSocket held by a connection hub of the caller's region. Its
 * subscriptions may name any symbol. `GET /ws/{SYMBOL}` is the older form: the symbol is
 * checked but no longer decides where the socket lives. The raw request is forwarded
 * (no Hono WebSocket helper, no header middleware: a 101 response's headers are immutable).
 */
export const streamRoutes = new Hono<{ Bindings: Env }>()
  .get("/ws", (c) => connect(c))
  .get("/ws/:symbol", (c) => {
    const symbol = symbolOrReject(c.req.param("symbol"));
    return symbol instanceof Response ? symbol : connect(c);
  });

function connect(c: Context<{ Bindings: Env }>): Promise<Response> | Response {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    return reject("upgrade-required", "this endpoint speaks STOMP over WebSocket: send Upgrade: websocket", {
      Upgrade: "websocket",
    });
  }
  const config = readConfig(c.env);
  if (!isOriginAllowed(c.req.header("Origin") ?? null, c.req.url, config)) {
    return reject("origin-not-allowed", "origin not allowed: add it to ALLOWED_ORIGINS");
  }
  return toHub(c.env, config, c.req.raw, RAW_WEBSOCKET);
}
