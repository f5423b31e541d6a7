import type { SessionTransportName, SockJSRoute } from "../../protocol/sockjs/paths";

/**
 * How the worker hands a SockJS request to the object that holds its sessions: the
 * request is re-addressed to an internal URL that names just what the object needs
 * (method, headers, body and query string are kept).
 */
const OBJECT_ORIGIN = "https://sockjs.internal";

export type ForwardedRoute = Extract<SockJSRoute, { kind: "raw-websocket" | "session" }>;

export function forwardRequest(request: Request, route: ForwardedRoute): Request {
  const path = route.kind === "session" ? `/${route.transport}/${route.sessionId}` : "/websocket";
  return new Request(`${OBJECT_ORIGIN}${path}${new URL(request.url).search}`, request);
}

/** The route of a forwarded request; undefined for anything else (e.g. a plain `/ws/{SYMBOL}` upgrade). */
export function forwardedRoute(request: Request): ForwardedRoute | undefined {
  const url = new URL(request.url);
  if (url.origin !== OBJECT_ORIGIN) return undefined;
  if (url.pathname === "/websocket") return { kind: "raw-websocket" };
  const [, transport, sessionId] = url.pathname.split("/");
  if (!transport || !sessionId) return undefined;
  return { kind: "session", transport: transport as SessionTransportName, sessionId };
}
