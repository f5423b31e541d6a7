import { StompError } from "./errors";
import type { StompVersion } from "./frame";

// 1.1 defines \n \c \\; 1.2 adds \r. Anything else after a backslash is a fatal error.
const ESCAPE_11: Record<string, string> = { "\\": "\\\\", "\n": "\\n", ":": "\\c" };
const ESCAPE_12: Record<string, string> = { ...ESCAPE_11, "\r": "\\r" };
const UNESCAPE_11: Record<string, string> = { "\\": "\\", n: "\n", c: ":" };
const UNESCAPE_12: Record<string, string> = { ...UNESCAPE_11, r: "\r" };

export function escapeHeader(value: string, version: StompVersion): string {
  if (version === "1.0") return value;
  const table = version === "1.2" ? ESCAPE_12 : ESCAPE_11;
  const pattern = version === "1.2" ? /[\\\n:\r]/g : /[\\\n:]/g;
  return value.replace(pattern, (ch) => table[ch] ?? ch);
}

export function unescapeHeader(value: string, version: StompVersion): string {
  if (version === "1.0" || !value.includes("\\")) return value;
  const table = version === "1.2" ? UNESCAPE_12 : UNESCAPE_11;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = value[++i];
    const mapped = next === undefined ? undefined : table[next];
    if (mapped === undefined) {
      throw new StompError(
        "invalid-header-escape",
        `Undefined escape sequence "\\${next ?? ""}" in header value (STOMP ${version}).`,
      );
    }
    out += mapped;
  }
  return out;
}
