/**
 * SockJS 0.3 framing, server → client, and payload decoding, client → server.
 * Pure: no I/O.
 */

export const OPEN_FRAME = "o";
export const HEARTBEAT_FRAME = "h";

/**
 * Characters that browsers or proxies mangle in transit. The spec requires them to be
 * `\uXXXX`-escaped (lowercase hex). JSON.stringify escapes only the C0 controls and
 * lone surrogates, so paired surrogates and the \u2028-style ranges are done here.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the spec names these ranges
const ESCAPABLE = /[\u0000-\u001f\ud800-\udfff\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]/g;

/** JSON string literal of `text`, escaped as the SockJS spec requires for outgoing frames. */
export function quote(text: string): string {
  return JSON.stringify(text).replace(ESCAPABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `a[...]`: one frame carrying any number of messages, in order. */
export function messageFrame(messages: readonly string[]): string {
  return `a[${messages.map(quote).join(",")}]`;
}

/** `c[code,"reason"]`: the session is over; served to every later receiving request too. */
export function closeFrame(code: number, reason: string): string {
  return `c[${code},${quote(reason)}]`;
}

/** A rejected xhr_send/jsonp_send body; `message` is the spec's exact reason. */
export class PayloadError extends Error {}

/** Body of xhr_send / jsonp_send: a JSON array of strings. */
export function decodeSendPayload(body: string): string[] {
  if (body === "") throw new PayloadError("Payload expected.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new PayloadError("Broken JSON encoding.");
  }
  if (!isStringArray(parsed)) throw new PayloadError("Payload expected.");
  return parsed;
}

/**
 * A message on the SockJS websocket transport: a JSON array of strings or one JSON
 * string; an empty message is ignored. `undefined` means broken framing, which the
 * spec answers by dropping the connection.
 */
export function decodeSocketMessage(data: string): string[] | undefined {
  if (data === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed === "string") return [parsed];
  return isStringArray(parsed) ? parsed : undefined;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((m) => typeof m === "string");
}
