/**
 * Which symbols this service carries (SYMBOLS): exact symbols and `*` patterns such as
 * `*-USD` or `^*`, comma-separated; empty carries any valid symbol. Every symbol is a
 * persistent object once used, so a public deployment should say which it serves. Pure.
 */
export interface SymbolPolicy {
  allows(symbol: string): boolean;
  /** The configured list, for messages. */
  readonly description: string;
}

export function parseSymbolPolicy(raw: string): SymbolPolicy {
  const entries = raw
    .split(",")
    .map((e) => e.trim().toUpperCase())
    .filter(Boolean);
  if (entries.length === 0) return { allows: () => true, description: "any symbol" };
  const patterns = entries.map((e) => new RegExp(`^${e.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`));
  return { allows: (symbol) => patterns.some((p) => p.test(symbol)), description: entries.join(", ") };
}

/** The one-line reason a symbol outside the policy gets. */
export function notCarried(symbol: string): string {
  return `${symbol} is not among the symbols this service carries`;
}

/**
 * Whether a symbol can be subscribed to here (`GET /api/symbols`): it has prices, it is not
 * carried (SYMBOLS) or unknown to the feed (a subscription would end in an ERROR), or it has
 * no price just now (the request budget, a failing provider: it may come).
 */
export type SymbolCheck =
  | { symbol: string; status: "known" }
  | { symbol: string; status: "not-carried" | "unknown" | "unavailable"; reason: string };
