import type { SockJSOptions } from "../../config";
import { iframePage } from "../../protocol/sockjs/iframe";
import { allowedMethods, parseSockJSPath, type SockJSRoute } from "../../protocol/sockjs/paths";
import { serveFixedText } from "./etag";
import type { ForwardedRoute } from "./forwarding";
import { cacheForAYear, corsHeaders, NO_CACHE, preflight, refererOrigin, sockjsError } from "./headers";

/** One SockJS service (a base URL) as the worker sees it. */
export interface SockJSService {
  options: SockJSOptions;
  /** Whether a request with this Origin may use the service (403 otherwise). */
  allowsOrigin(origin: string | null): boolean;
  /** Only some origins are allowed: a browser request must then prove where it comes from. */
  restricted: boolean;
  /** CSP `frame-ancestors` sources: who may embed the iframe page. */
  frameAncestors: string;
  /** Hands a session request or upgrade to the object that holds it. */
  forward(request: Request, route: ForwardedRoute): Promise<Response>;
}

/**
 * Serves everything under a SockJS base URL. Stateless answers (greeting, info, the
 * iframe page, preflights and errors) are made here at the edge; session requests and
 * websocket upgrades go to the object that owns the sessions.
 */
export async function serveSockJS(request: Request, rest: string, service: SockJSService): Promise<Response> {
  const route = parseSockJSPath(rest);
  if (!route) return sockjsError(404, "Not found.");
  const methods = allowedMethods(route);
  const method = request.method === "HEAD" ? "GET" : request.method;
  if (!methods.includes(method)) return new Response(null, { status: 405, headers: { Allow: methods.join(", ") } });
  // The greeting is public and the iframe page is loaded same-origin (framing is limited by CSP).
  if (route.kind !== "greeting" && route.kind !== "iframe") {
    const origin = requestOrigin(request, route);
    if (!service.allowsOrigin(origin)) return sockjsError(403, "Origin not allowed.");
    if (origin === null && service.restricted && loadedByScriptTag(route)) {
      return sockjsError(403, "Origin unknown: this transport needs a Referer or Sec-Fetch-Site from an allowed page.");
    }
  }
  if (method === "OPTIONS") return preflight(request, methods);

  switch (route.kind) {
    case "greeting":
      return new Response("Welcome to SockJS!\n", { headers: { "Content-Type": "text/plain; charset=UTF-8" } });
    case "info":
      return info(request, service.options);
    case "iframe":
      return iframe(request, service);
    default:
      return forwardSession(request, route, service);
  }
}

/**
 * jsonp and htmlfile receivers are loaded by <script> and <iframe>, and jsonp_send by a
 * form post: browsers send no Origin with those, so any site could read the stream.
 */
function loadedByScriptTag(route: SockJSRoute): boolean {
  return (
    route.kind === "session" &&
    (route.transport === "jsonp" || route.transport === "jsonp_send" || route.transport === "htmlfile")
  );
}

/**
 * The page a request comes from: its Origin, or for the script-loaded transports (which
 * send none) the origin the browser vouches for, `Sec-Fetch-Site: same-origin` or the
 * Referer's origin. null when nothing says.
 */
function requestOrigin(request: Request, route: SockJSRoute): string | null {
  const origin = request.headers.get("Origin");
  if (origin !== null || !loadedByScriptTag(route)) return origin;
  if (request.headers.get("Sec-Fetch-Site") === "same-origin") return new URL(request.url).origin;
  return refererOrigin(request);
}

function info(request: Request, options: SockJSOptions): Response {
  const entropy = crypto.getRandomValues(new Uint32Array(1))[0];
  const body = { websocket: options.websocket, cookie_needed: options.cookieNeeded, origins: ["*:*"], entropy };
  return new Response(JSON.stringify(body), {
    headers: { "Content-Type": "application/json; charset=UTF-8", ...NO_CACHE, ...corsHeaders(request) },
  });
}

function iframe(request: Request, service: SockJSService): Promise<Response> {
  return serveFixedText(request, iframePage(service.options.clientUrl), "text/html; charset=UTF-8", {
    ...cacheForAYear(),
    "Content-Security-Policy": `frame-ancestors ${service.frameAncestors}`,
  });
}

function forwardSession(request: Request, route: ForwardedRoute, service: SockJSService): Promise<Response> | Response {
  const isWebSocket = route.kind === "raw-websocket" || route.transport === "websocket";
  if (isWebSocket) {
    if (!service.options.websocket) return sockjsError(404, "WebSocket transport is disabled.");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return sockjsError(400, 'Can "Upgrade" only to "WebSocket".');
    }
    // A proxy that rewrote Connection (to close, say) breaks the upgrade: 400, as the spec
    // asks (the runtime would answer the 101 it cannot complete with 426). `wrangler dev`'s
    // own proxy re-sends every upgrade with Connection: Upgrade, so there this cannot be seen.
    const connection = (request.headers.get("Connection") ?? "").toLowerCase().split(",");
    if (!connection.some((token) => token.trim() === "upgrade")) {
      return sockjsError(400, '"Connection" must be "Upgrade".');
    }
  }
  return service.forward(request, route);
}
