/**
 * Every error the HTTP API answers, in one place: a stable code (sent as the
 * `x-error-code` header, for clients to branch on) and its status. The body is a one-line
 * reason. The SockJS transports answer as the SockJS protocol says, and are not listed.
 */
export const HTTP_ERRORS = {
  "invalid-symbol": 400,
  "symbols-required": 400,
  "too-many-symbols": 400,
  "invalid-parameter": 400,
  "invalid-json": 400,
  "invalid-tick": 400,
  "invalid-tick-count": 400,
  "malformed-path": 400,
  "auth-required": 401,
  "invalid-token": 401,
  "not-entitled": 403,
  "publishing-disabled": 403,
  "not-publisher": 403,
  "origin-not-allowed": 403,
  "invalid-cron-token": 403,
  "symbol-not-carried": 404,
  "unknown-symbol": 404,
  "no-route": 404,
  "feature-off": 404,
  "body-too-large": 413,
  "upgrade-required": 426,
  "too-many-failures": 429,
  "too-many-connections": 429,
  "too-many-requests": 429,
  internal: 500,
  "feed-failed": 502,
  "feed-busy": 503,
  "hubs-full": 503,
} as const satisfies Record<string, number>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;
