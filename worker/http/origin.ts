import type { Config } from "../config";

/**
 * Whether a request's Origin may connect. Same-origin pages (the product's own
 * frontend, local dev included) always may; others must be in ALLOWED_ORIGINS as an
 * exact origin, an `https://*.host` wildcard (subdomains only), or `*`. Requests with
 * no Origin are server-side clients: allowed unless REQUIRE_ORIGIN is set. This is
 * a browser guard, not authentication.
 */
export function isOriginAllowed(origin: string | null, requestUrl: string, config: Config): boolean {
  if (origin === null) return !config.requireOrigin;
  const allowed = config.allowedOrigins;
  if (allowed.includes("*")) return true;
  const parsed = parseOrigin(origin);
  if (!parsed) return false;
  if (parsed.origin === new URL(requestUrl).origin) return true;
  return allowed.some((pattern) => matches(parsed, pattern));
}

function parseOrigin(origin: string): URL | undefined {
  try {
    const url = new URL(origin);
    // "null" (sandboxed frames, file://) and anything that is not a bare origin never match.
    return url.origin === "null" || url.origin !== origin.toLowerCase().replace(/\/$/, "") ? undefined : url;
  } catch {
    return undefined;
  }
}

function matches(origin: URL, pattern: string): boolean {
  const wildcard = /^(https?):\/\/\*\.([^/:]+)(?::(\d+))?$/i.exec(pattern);
  if (!wildcard) return origin.origin === pattern.toLowerCase().replace(/\/$/, "");
  const [, scheme, domain, port] = wildcard;
  return (
    origin.protocol === `${scheme!.toLowerCase()}:` &&
    origin.hostname.endsWith(`.${domain!.toLowerCase()}`) &&
    origin.port === (port ?? "")
  );
}

/** CSP `frame-ancestors` sources matching the allow-list (the worker's own origin always). */
export function frameAncestors(config: Config): string {
  if (config.allowedOrigins.includes("*")) return "*";
  return ["'self'", ...config.allowedOrigins].join(" ");
}
