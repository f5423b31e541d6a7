/** STOMP frame model shared by the decoder, the encoder and the session. */

export type StompVersion = "1.0" | "1.1" | "1.2";

export const SUPPORTED_VERSIONS: readonly StompVersion[] = ["1.0", "1.1", "1.2"];

/** Client commands the server understands (STOMP is a synonym of CONNECT since 1.1). */
export const CLIENT_COMMANDS = new Set([
  "CONNECT",
  "STOMP",
  "SEND",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "ACK",
  "NACK",
  "BEGIN",
  "COMMIT",
  "ABORT",
  "DISCONNECT",
]);

export interface Frame {
  command: string;
  /** Headers in wire order; repeated names are kept, but `header()` returns the first (spec). */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array;
}

/** First value of a header, as STOMP 1.2 requires for repeated entries. */
export function header(frame: Frame, name: string): string | undefined {
  for (const [k, v] of frame.headers) if (k === name) return v;
  return undefined;
}

/** Header escaping applies to every frame but CONNECT/CONNECTED, and only from 1.1 on. */
export function escapesHeaders(version: StompVersion, command: string): boolean {
  return version !== "1.0" && command !== "CONNECT" && command !== "CONNECTED" && command !== "STOMP";
}
