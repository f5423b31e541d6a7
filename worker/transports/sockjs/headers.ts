import type { SockJSOptions } from "../../config";
import { FORWARDED_PROTO } from "./forwarding";

/** Response headers the SockJS spec requires, by purpose. */

/** Session data and /info must never be cached (iOS 6 even caches POSTs) nor transformed by proxies. */
export const NO_CACHE = { "Cache-Control": "no-store, no-cache, no-transform, must-revalidate, max-age=0" } as const;

const YEAR_SECONDS = 31_536_000;

/** Preflights and the iframe page are strongly cacheable. */
export function cacheForAYear(): Record<string, string> {
  return {
    "Cache-Control": `public, max-age=${YEAR_SECONDS}`,
    Expires: new Date(Date.now() + YEAR_SECONDS * 1000).toUTCString(),
  };
}

/**
 * CORS for XHR transports: echo the (already vetted) Origin with credentials so the
 * JSESSIONID cookie can flow, `null` included (file:// pages, sandboxed frames), as the
 * reference servers do; `*` when there is none.
 */
export function corsHeaders(request: Request): Record<string, string> {
  const origin = request.headers.get("Origin");
  const headers: Record<string, string> = origin
    ? { "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true", Vary: "Origin" }
    : { "Access-Control-Allow-Origin": "*" };
  const requested = request.headers.get("Access-Control-Request-Headers");
  if (requested) headers["Access-Control-Allow-Headers"] = requested;
  return headers;
}

/** The origin of the Referer, when there is a parseable one. */
export function refererOrigin(request: Request): string | null {
  const referer = request.headers.get("Referer");
  if (!referer) return null;
  try {
    return new URL(referer).origin;
  } catch {
    return null;
  }
}

/** `204` answer to a CORS preflight. */
export function preflight(request: Request, methods: readonly string[]): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(request),
      ...cacheForAYear(),
      "Access-Control-Allow-Methods": methods.join(", "),
      "Access-Control-Max-Age": String(YEAR_SECONDS),
    },
  });
}

/** The JSESSIONID the client sent, if any. */
export function clientSessionCookie(request: Request): string | undefined {
  return /(?:^|;\s*)JSESSIONID=([A-Za-z0-9._~-]{1,128})(?:;|$)/.exec(request.headers.get("Cookie") ?? "")?.[1];
}

/**
 * With cookie_needed, every session response sets JSESSIONID so cookie-based sticky load
 * balancers keep the session together: the value given (a bound session's), else the
 * client's own, else "dummy" as the reference servers do. A server-issued value over
 * HTTPS is `SameSite=None; Secure` so pages on other sites (the widget) send it back.
 */
export function sessionCookie(request: Request, options: SockJSOptions, issued?: string): Record<string, string> {
  if (!options.cookieNeeded) return {};
  if (issued === undefined) return { "Set-Cookie": `JSESSIONID=${clientSessionCookie(request) ?? "dummy"}; path=/` };
  const crossSite = request.headers.get(FORWARDED_PROTO) === "https" ? "; SameSite=None; Secure" : "";
  return { "Set-Cookie": `JSESSIONID=${issued}; path=/; HttpOnly${crossSite}` };
}

/** Headers shared by every session response: CORS, no caching, the cookie. */
export function sessionHeaders(
  request: Request,
  options: SockJSOptions,
  contentType: string,
  issuedCookie?: string,
): Record<string, string> {
  return {
    "Content-Type": contentType,
    ...NO_CACHE,
    ...corsHeaders(request),
    ...sessionCookie(request, options, issuedCookie),
  };
}

/** A plain-text SockJS error (`Payload expected.`, `"callback" parameter required`, ...). */
export function sockjsError(status: number, reason: string, headers: Record<string, string> = {}): Response {
  return new Response(reason, {
    status,
    headers: { "Content-Type": "text/plain; charset=UTF-8", ...NO_CACHE, ...headers },
  });
}
