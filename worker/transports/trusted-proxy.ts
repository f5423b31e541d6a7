/**
 * Where a client's address may be read from, and nowhere else. On Cloudflare the edge sets
 * `CF-Connecting-IP` and a client cannot; on bare workerd (`npm start`) every header comes
 * from the client unless a proxy in front overwrites it, so there it is read only from the
 * header a proxy the operator names sets (TRUSTED_PROXY). Pure.
 */

/** An address range: IPv4 or IPv6, as a number and a prefix length. */
interface Range {
  v6: boolean;
  base: bigint;
  bits: number;
}

export type AddressRule =
  /** Cloudflare (or `wrangler dev`, which simulates it): `CF-Connecting-IP`, when the request came through the edge (`request.cf`). */
  | { kind: "cloudflare" }
  /** Bare workerd with no proxy named: no address is known (every client looks alike). */
  | { kind: "none" }
  /** Behind a proxy: `header` (a list such as X-Forwarded-For is read from the right, past the `trusted` hops). */
  | { kind: "proxy"; header: string; trusted: Range[] };

/**
 * TRUSTED_PROXY: `HEADER` or `HEADER from RANGE, RANGE…` (`X-Forwarded-For from 127.0.0.1,
 * 10.0.0.0/8`). Unset: Cloudflare's header, unless `selfHosted` (npm start), which knows none.
 */
export function parseTrustedProxy(raw: string | undefined, selfHosted: boolean): AddressRule {
  const text = raw?.trim() ?? "";
  if (text === "") return selfHosted ? { kind: "none" } : { kind: "cloudflare" };
  const m = /^([A-Za-z0-9-]{1,64})(?:\s+from\s+(.+))?$/i.exec(text);
  const ranges = m?.[2]?.split(",").map((r) => parseRange(r.trim())) ?? [];
  if (!m || ranges.some((r) => r === undefined)) {
    throw new Error(
      `config TRUSTED_PROXY="${text.slice(0, 80)}" must be a header name, optionally "from" address ranges: X-Forwarded-For from 127.0.0.1, 10.0.0.0/8`,
    );
  }
  return { kind: "proxy", header: m[1]!, trusted: ranges as Range[] };
}

/**
 * The client's address under `rule` ("" when none is known), as the key per-address
 * limits use: an IPv6 address counts as its /64 (one subscriber's usual allocation).
 */
export function addressFrom(rule: AddressRule, headers: Headers, cf: unknown): string {
  switch (rule.kind) {
    case "none":
      return "";
    case "cloudflare": {
      const value = cf === undefined ? undefined : headers.get("CF-Connecting-IP");
      return keyOf(value?.trim() ?? "");
    }
    case "proxy":
      return fromChain(headers.get(rule.header) ?? "", rule.trusted);
  }
}

/** The rightmost address of a comma-separated chain not in `trusted` (each proxy appends the peer it saw). */
function fromChain(value: string, trusted: readonly Range[]): string {
  const hops = value.split(",").map((h) => h.trim());
  let leftmost = "";
  for (let i = hops.length - 1; i >= 0; i--) {
    const parsed = parseAddress(hops[i]!);
    // A hop that is no address: nothing further left can be trusted.
    if (!parsed) return leftmost;
    leftmost = keyOf(hops[i]!);
    if (!trusted.some((r) => inRange(parsed, r))) return leftmost;
  }
  return leftmost;
}

/** A per-address key: IPv4 as written, IPv6 as its /64; "" for anything that is not an address. */
export function keyOf(text: string): string {
  const parsed = parseAddress(text);
  if (!parsed) return "";
  if (!parsed.v6) return text;
  const prefix = parsed.base >> 64n;
  const groups = Array.from({ length: 4 }, (_, i) => ((prefix >> BigInt(48 - 16 * i)) & 0xffffn).toString(16));
  return `${groups.join(":")}::/64`;
}

function parseRange(text: string): Range | undefined {
  const [addr = "", bits] = text.split("/");
  const parsed = parseAddress(addr);
  if (!parsed) return undefined;
  const max = parsed.v6 ? 128 : 32;
  const n = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(n) || n < 0 || n > max) return undefined;
  return { ...parsed, bits: n };
}

function inRange(addr: { v6: boolean; base: bigint }, range: Range): boolean {
  if (addr.v6 !== range.v6) return false;
  const shift = BigInt((range.v6 ? 128 : 32) - range.bits);
  return addr.base >> shift === range.base >> shift;
}

function parseAddress(text: string): { v6: boolean; base: bigint } | undefined {
  if (text.length > 45) return undefined;
  const v4 = parseV4(text);
  if (v4 !== undefined) return { v6: false, base: v4 };
  const v6 = parseV6(text);
  return v6 === undefined ? undefined : { v6: true, base: v6 };
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n);
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // An IPv4 tail (::ffff:192.0.2.1) is two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  const v4 = last?.includes(".") ? parseV4(last) : undefined;
  if (last?.includes(".") && v4 === undefined) return undefined;
  const list = halves.length === 2 ? tail : head;
  if (v4 !== undefined) list.splice(-1, 1, ((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16));
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...Array<string>(8 - total).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined;
  return all.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}
