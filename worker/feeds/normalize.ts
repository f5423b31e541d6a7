/** Turning providers' loose JSON into numbers and epoch milliseconds. Pure. */

/** A finite number from a number or numeric string; undefined otherwise (null, "", "N/A", NaN). */
export function num(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "" && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(value.trim())) {
    return Number(value);
  }
  return undefined;
}

/** A price must be a positive finite number. */
export function price(value: unknown): number | undefined {
  const n = num(value);
  return n !== undefined && n > 0 ? n : undefined;
}

export type TimeUnit = "s" | "ms" | "ns";

/** Epoch ms from seconds, ms, ns or an RFC 3339 / ISO-8601 string (nanosecond fractions allowed). */
export function epochMs(value: unknown, unit: TimeUnit = "ms"): number | undefined {
  if (typeof value === "string" && !/^\d+$/.test(value)) {
    // RFC 3339 with up to 9 fraction digits: Date.parse wants at most 3.
    const trimmed = value.replace(/(\.\d{3})\d+/, "$1");
    const ms = Date.parse(trimmed);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const n = num(value);
  if (n === undefined || n <= 0) return undefined;
  const ms = unit === "s" ? n * 1000 : unit === "ns" ? n / 1e6 : n;
  return Math.round(ms);
}

/** Keeps only the defined fields (a Quote has no `undefined` properties). */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
