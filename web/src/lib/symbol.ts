import type { Refusal } from "../../../client/src/checks";
import { normalizeSymbol } from "../../../worker/market/symbol";

/** What a person typed, as a symbol the broker accepts; undefined if it cannot be one. */
export function parseSymbol(input: string): string | undefined {
  try {
    return normalizeSymbol(input);
  } catch {
    return undefined;
  }
}

/** What a person is told about a symbol the host refused: briefly, what to do is theirs. */
export function refusalText(symbol: string, refusal: Refusal): string {
  return refusal.code === "unknown-symbol" ? `${symbol} is not a known symbol` : `${symbol} is not carried here`;
}

/** The rule a typed symbol broke. */
export const SYMBOL_RULE = "Symbols are 1–16 characters: letters, digits, . - ^ =";
