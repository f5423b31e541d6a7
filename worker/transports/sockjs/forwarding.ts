import { reject } from "../../http/reply";
import type { SockJSRoute, SockJSTransportName } from "../../protocol/sockjs/paths";
import { CLIENT_ADDRESS_HEADER } from "../client-address";

/**
 * How the worker hands a connection request to the object that holds it: the request is
 * re-addressed to an internal URL that names just what the object needs (method,
 * headers and query string are kept; a POST body is passed as already read).
 */
const OBJECT_ORIGIN = "https://hub.internal";

/** Set on a hub's answer when it is full: the worker tries the next hub. */
export const HUB_FULL_HEADER = "X-Hub-Full";

/** The scheme the client used, set by the worker (the object only sees OBJECT_ORIGIN). */
export const FORWARDED_PROTO = "X-Edge-Ticker-Proto";

export type ForwardedRoute = Extract<SockJSRoute, { kind: "raw-websocket" | "session" }>;

/** `/ws` and SockJS `/websocket` are the same thing to a hub: plain STOMP over a WebSocket. */
export const RAW_WEBSOCKET: ForwardedRoute = { kind: "raw-websocket" };

/** `address`: the client's address as the worker found it ("" when none is known). */
export function forwardRequest(request: Request, route: ForwardedRoute, address: string, body?: ArrayBuffer): Request {
  const path = route.kind === "session" ? `/${route.transport}/${route.sessionId}` : "/websocket";
  const original = new URL(request.url);
  const url = `${OBJECT_ORIGIN}${path}${original.search}`;
  const forwarded =
    body === undefined
      ? new Request(url, request)
      : new Request(url, { method: request.method, headers: request.headers, body });
  forwarded.headers.set(FORWARDED_PROTO, original.protocol.slice(0, -1));
  forwarded.headers.set(CLIENT_ADDRESS_HEADER, address);
  return forwarded;
}

/** The route of a forwarded request; undefined for anything else. */
export function forwardedRoute(request: Request): ForwardedRoute | undefined {
  const url = new URL(request.url);
  if (url.origin !== OBJECT_ORIGIN) return undefined;
  if (url.pathname === "/websocket") return RAW_WEBSOCKET;
  const [, transport, sessionId] = url.pathname.split("/");
  if (!transport || !sessionId) return undefined;
  return { kind: "session", transport: transport as SockJSTransportName, sessionId };
}

/**
 * A hub's answer to a connection it turns away: full (the worker tries the next hub of the
 * region), or too many from one client address (429 to the client).
 */
export function refusal(reason: "full" | "per-address", maxPerAddress: number): Response {
  if (reason === "full") return new Response("hub full\n", { status: 503, headers: { [HUB_FULL_HEADER]: "1" } });
  return reject("too-many-connections", `too many connections from this address (at most ${maxPerAddress})`);
}
