import { type Context, Hono } from "hono";
import sockjsClient from "sockjs-client/dist/sockjs.min.js";
import { readConfig, SOCKJS_CLIENT_PATH } from "../../config";
import type { Env } from "../../env";
import { sockjsTestStub } from "../../objects/stubs";
import { parseSockJSPath } from "../../protocol/sockjs/paths";
import { serveSockJS } from "../../transports/sockjs/endpoint";
import { serveFixedText } from "../../transports/sockjs/etag";
import { forwardRequest } from "../../transports/sockjs/forwarding";
import { isTestService, testServiceOptions } from "../../transports/sockjs/test-services";
import { toHub } from "../hubs";
import { frameAncestors, isOriginAllowed } from "../origin";
import { reject, symbolOrReject } from "../reply";

type Ctx = Context<{ Bindings: Env }>;

/**
 * SockJS: `/sockjs` is a SockJS base URL whose sessions (every transport) carry STOMP to a
 * connection hub, exactly like `/ws`. `/sockjs/{SYMBOL}` is the older form of the same
 * service (the symbol is checked, nothing more). The worker also serves its own copy of
 * sockjs-client (no CDN: offline-capable, no third party).
 */
export const sockjsRoutes = new Hono<{ Bindings: Env }>()
  .get(SOCKJS_CLIENT_PATH, serveClientLibrary)
  .all("/sockjs", (c) => serveProduct(c, ""))
  .all("/sockjs/*", (c) => {
    const rest = new URL(c.req.url).pathname.slice("/sockjs".length);
    if (parseSockJSPath(rest)) return serveProduct(c, rest);
    // `/sockjs/{SYMBOL}/...`: the older base URL.
    const { name, rest: legacyRest } = splitBase(c, "/sockjs/");
    let decoded: string;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      return reject("malformed-path", "malformed percent-encoding in the symbol");
    }
    const symbol = symbolOrReject(decoded);
    return symbol instanceof Response ? symbol : serveProduct(c, legacyRest);
  })
  // The SockJS protocol suite's services: dev/test only, any Origin (the suite sends arbitrary ones).
  .all("/sockjs-test/*", (c) => {
    const config = readConfig(c.env);
    const { name, rest } = splitBase(c, "/sockjs-test/");
    if (!config.sockjsTestServices)
      return reject("feature-off", "SockJS test services are off (SOCKJS_TEST_SERVICES=true enables them)");
    if (!isTestService(name)) return reject("no-route", `no SockJS test service "${name}"`);
    return serveSockJS(c.req.raw, rest, {
      options: testServiceOptions(name, config.sockjs),
      allowsOrigin: () => true,
      restricted: false,
      frameAncestors: "*",
      forward: (request, route) => sockjsTestStub(c.env, name).fetch(forwardRequest(request, route, "")),
    });
  });

/** The product's SockJS service: sessions live in hubs, a session's requests all in the same one. */
function serveProduct(c: Ctx, rest: string): Promise<Response> {
  const config = readConfig(c.env);
  return serveSockJS(c.req.raw, rest, {
    options: config.sockjs,
    allowsOrigin: (origin) => isOriginAllowed(origin, c.req.url, config),
    restricted: !config.allowedOrigins.includes("*"),
    frameAncestors: frameAncestors(config),
    forward: (request, route) =>
      toHub(c.env, config, request, route, route.kind === "session" ? route.sessionId : undefined),
  });
}

/** `/sockjs/AAPL/000/abc/xhr` → name "AAPL", rest "/000/abc/xhr" (raw, still percent-encoded). */
function splitBase(c: Ctx, prefix: string): { name: string; rest: string } {
  const path = new URL(c.req.url).pathname.slice(prefix.length);
  const slash = path.indexOf("/");
  return slash < 0 ? { name: path, rest: "" } : { name: path.slice(0, slash), rest: path.slice(slash) };
}

function serveClientLibrary(c: Ctx): Promise<Response> {
  return serveFixedText(c.req.raw, sockjsClient, "application/javascript; charset=UTF-8", {
    // Not versioned in the URL: cache for a day, revalidate by ETag.
    "Cache-Control": "public, max-age=86400",
    "Access-Control-Allow-Origin": "*",
  });
}
