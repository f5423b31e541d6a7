import type { HttpErrorCode } from "../../worker/http/errors";
import type { StompErrorCode } from "../../worker/protocol/stomp/errors";

export type { HttpErrorCode, StompErrorCode };

/**
 * Every `x-error-code` the server can answer, from its two catalogues (ERROR frames and HTTP
 * answers): a `switch` over it is checked by the compiler when the server adds a code.
 */
export type ServerErrorCode = StompErrorCode | HttpErrorCode;

/** Faults of the client's own (no server code): a network failure, a refused token source, an answer that is not the API's. */
export type ClientErrorCode = "network" | "token-source" | "bad-answer";

export type ErrorCode = ServerErrorCode | ClientErrorCode;

/**
 * An error from the server (`x-error-code` and its one-line reason) or from the client.
 * `status` is the HTTP status of an API answer; `details` the ERROR frame's body.
 */
export class EdgeTickerError extends Error {
  override readonly name = "EdgeTickerError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status?: number,
    readonly details?: string,
  ) {
    super(message);
  }
}

/** The error an ERROR frame's headers describe (the code is the server's; an unknown one reads as `internal`). */
export function stompError(headers: Record<string, string>, body: string): EdgeTickerError {
  const code = (headers["x-error-code"] ?? "internal") as StompErrorCode;
  return new EdgeTickerError(code, headers.message ?? code, undefined, body.trim() || undefined);
}
