/**
 * Every ERROR a STOMP client can get, in one place: a stable code (sent as the
 * `x-error-code` header, for clients to branch on without parsing text), the `message`
 * header, and the WebSocket close code that follows (1002 protocol error, 1008 policy,
 * 1009 too big, 1011 server fault). docs list the same table.
 */
export const STOMP_ERRORS = {
  // The frame itself (decoder).
  "frame-too-large": { message: "Frame too large", closeCode: 1009 },
  "too-many-headers": { message: "Too many headers", closeCode: 1002 },
  "malformed-header": { message: "Malformed header", closeCode: 1002 },
  "invalid-header-escape": { message: "Invalid header escape", closeCode: 1002 },
  "invalid-content-length": { message: "Invalid content-length", closeCode: 1002 },
  "frame-not-terminated": { message: "Frame not terminated", closeCode: 1002 },
  "invalid-utf8": { message: "Invalid UTF-8", closeCode: 1002 },
  "unknown-command": { message: "Unknown command", closeCode: 1002 },
  // The protocol (session).
  "unsupported-version": { message: "Unsupported protocol version", closeCode: 1002 },
  "already-connected": { message: "Already connected", closeCode: 1002 },
  "not-connected": { message: "Not connected", closeCode: 1002 },
  "missing-header": { message: "Missing header", closeCode: 1002 },
  "invalid-header": { message: "Invalid header", closeCode: 1002 },
  "unknown-destination": { message: "Unknown destination", closeCode: 1002 },
  "invalid-subscription-id": { message: "Invalid subscription id", closeCode: 1002 },
  "duplicate-subscription-id": { message: "Duplicate subscription id", closeCode: 1002 },
  "invalid-ack-mode": { message: "Invalid ack mode", closeCode: 1002 },
  "transactions-unsupported": { message: "Transactions are not supported", closeCode: 1002 },
  "invalid-json": { message: "Invalid JSON body", closeCode: 1002 },
  "invalid-tick": { message: "Invalid tick", closeCode: 1002 },
  // Credentials and entitlements.
  "auth-required": { message: "Authentication required", closeCode: 1008 },
  "invalid-authorization": { message: "Invalid Authorization header", closeCode: 1008 },
  "invalid-token": { message: "Invalid token", closeCode: 1008 },
  "too-many-failures": { message: "Too many failed attempts", closeCode: 1008 },
  "token-expired": { message: "Token expired", closeCode: 1008 },
  "missing-token": { message: "Missing token", closeCode: 1002 },
  "token-subject-changed": { message: "Token subject changed", closeCode: 1008 },
  "token-changes-entitlements": { message: "Token changes entitlements", closeCode: 1008 },
  "not-entitled": { message: "Not entitled", closeCode: 1008 },
  "not-publisher": { message: "Not authorized to publish", closeCode: 1008 },
  // Symbols.
  "symbol-not-carried": { message: "Symbol not carried", closeCode: 1002 },
  "no-price": { message: "No price", closeCode: 1002 },
  // Limits.
  "too-many-subscriptions": { message: "Too many subscriptions", closeCode: 1008 },
  "too-many-active-symbols": { message: "Too many active symbols", closeCode: 1008 },
  "too-much-input": { message: "Too much input", closeCode: 1008 },
  "too-many-frames": { message: "Too many frames", closeCode: 1008 },
  "session-too-large": { message: "Session too large", closeCode: 1008 },
  // The server.
  internal: { message: "Internal error", closeCode: 1011 },
} as const satisfies Record<string, { message: string; closeCode: number }>;

export type StompErrorCode = keyof typeof STOMP_ERRORS;

/**
 * A reason to end a session. The session turns it into an ERROR frame with the code's
 * `message` (or a more specific one: "Missing header: id"), `x-error-code`, any extra
 * `headers`, and `details` as the body, then closes with the code's close code.
 */
export class StompError extends Error {
  readonly closeCode: number;

  constructor(
    readonly code: StompErrorCode,
    readonly details?: string,
    options: { message?: string; headers?: ReadonlyArray<readonly [string, string]> } = {},
  ) {
    super(options.message ?? STOMP_ERRORS[code].message);
    this.name = "StompError";
    this.closeCode = STOMP_ERRORS[code].closeCode;
    this.headers = options.headers ?? [];
  }

  readonly headers: ReadonlyArray<readonly [string, string]>;
}
