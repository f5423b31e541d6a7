/**
 * The URL space under a SockJS base URL (`/sockjs/AAPL`, `/sockjs-test/echo`). Pure.
 */
export type SockJSRoute =
  | { kind: "greeting" }
  | { kind: "info" }
  | { kind: "iframe" }
  | { kind: "raw-websocket" }
  | { kind: "session"; sessionId: string; transport: SockJSTransportName };

export type SockJSTransportName = keyof typeof SESSION_METHODS;

/** Methods each session transport answers; anything else is 405 with `Allow`. */
const SESSION_METHODS = {
  websocket: ["GET"],
  xhr: ["OPTIONS", "POST"],
  xhr_send: ["OPTIONS", "POST"],
  xhr_streaming: ["OPTIONS", "POST"],
  eventsource: ["GET"],
  htmlfile: ["GET"],
  jsonp: ["GET"],
  jsonp_send: ["POST"],
} as const satisfies Record<string, readonly string[]>;

/** Methods of the fixed endpoints. */
const FIXED_METHODS = {
  greeting: ["GET"],
  info: ["OPTIONS", "GET"],
  iframe: ["GET"],
  "raw-websocket": ["GET"],
} as const satisfies Record<string, readonly string[]>;

/**
 * `rest` is the path after the base, e.g. "", "/", "/info", "/000/abc/xhr".
 * Server and session ids are 1-64 characters without dots or slashes; undefined is 404.
 */
export function parseSockJSPath(rest: string): SockJSRoute | undefined {
  if (rest === "" || rest === "/") return { kind: "greeting" };
  if (rest === "/info") return { kind: "info" };
  if (/^\/iframe(-[^/]*)?\.html$/.test(rest)) return { kind: "iframe" };
  if (rest === "/websocket") return { kind: "raw-websocket" };
  // Ids are client-chosen: bounded, so a session table cannot be fed 20,000-character keys.
  const session = /^\/[^/.]{1,64}\/([^/.]{1,64})\/([a-z_]+)$/.exec(rest);
  if (session && Object.hasOwn(SESSION_METHODS, session[2]!)) {
    return { kind: "session", sessionId: session[1]!, transport: session[2] as SockJSTransportName };
  }
  return undefined;
}

/** Methods allowed on `route`. */
export function allowedMethods(route: SockJSRoute): readonly string[] {
  return route.kind === "session" ? SESSION_METHODS[route.transport] : FIXED_METHODS[route.kind];
}
