import { escapeHeader } from "./escape";
import { escapesHeaders, type StompVersion } from "./frame";

const utf8 = new TextEncoder();
// biome-ignore lint/suspicious/noControlCharactersInRegex: all of ASCII, controls included
const ASCII = /^[\x00-\x7f]*$/;

export type HeaderList = ReadonlyArray<readonly [string, string | number]>;

/** UTF-8 length of a string: what `content-length` counts (every tick body is ASCII: no encoding for those). */
export function byteLength(text: string): number {
  return ASCII.test(text) ? text.length : utf8.encode(text).length;
}

/**
 * Serializes a server frame to text. Adds `content-length` whenever there is a body
 * (so bodies may contain NUL and clients need not scan for it).
 */
export function encodeFrame(command: string, headers: HeaderList, body = "", version: StompVersion = "1.2"): string {
  const escaped = escapesHeaders(version, command);
  let out = `${command}\n`;
  for (const [name, value] of headers) {
    const v = String(value);
    out += escaped ? `${escapeHeader(name, version)}:${escapeHeader(v, version)}\n` : `${name}:${v}\n`;
  }
  if (body.length > 0) out += `content-length:${byteLength(body)}\n`;
  return `${out}\n${body}\0`;
}
