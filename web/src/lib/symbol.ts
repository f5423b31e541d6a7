import { normalizeSymbol } from "../../../worker/market/symbol";

/** What a person typed, as a symbol the broker accepts; undefined if it cannot be one. */
export function parseSymbol(input: string): string | undefined {
  try {
    return normalizeSymbol(input);
  } catch {
    return undefined;
  }
}
