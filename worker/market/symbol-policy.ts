/**
 * Which symbols this service carries (SYMBOLS): exact symbols and `*` patterns such as
 * `*-USD` or `^*`, comma-separated; empty carries any valid symbol. It only narrows what
 * the feed knows and publishers send: a symbol gets an object once one of those says it is
 * real (market/known-symbols.ts). Pure.
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
  // Runs of stars mean one star; the same pattern twice is checked once.
  const patterns = [...new Set(entries.map((e) => e.replace(/\*+/g, "*")))];
  return { allows: (symbol) => patterns.some((p) => globMatch(p, symbol)), description: entries.join(", ") };
}

/**
 * Whether `text` matches `pattern`, where `*` stands for any run of characters. Greedy
 * with one backtrack point (the last star): each star only ever moves forward, so the
 * work is at most |pattern| × |text| steps, never exponential as a regular expression
 * built from the pattern can be (`***…X` took seconds per symbol).
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/** The one-line reason a symbol outside the policy gets. */
export function notCarried(symbol: string): string {
  return `${symbol} is not among the symbols this service carries`;
}

/**
 * Whether a symbol can be subscribed to here (`GET /api/symbols`): it has prices, it is not
 * carried (SYMBOLS), the caller's token does not cover it (`sym`), or it is unknown to the
 * feed (a subscription would end in an ERROR), or it has no price just now (the request
 * budget, a failing provider: it may come).
 */
export type SymbolCheck =
  | { symbol: string; status: "known" }
  | { symbol: string; status: "not-carried" | "not-entitled" | "unknown" | "unavailable"; reason: string };
