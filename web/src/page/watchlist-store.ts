import { parseSymbol } from "../lib/symbol";

const KEY = "edge-ticker:watchlist";
export const DEFAULT_SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "BTC-USD", "EURUSD=X"];

/** The watchlist survives reloads in localStorage; a broken or missing entry falls back to defaults. */
export function loadWatchlist(): string[] {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? "null") as unknown;
    if (Array.isArray(stored)) {
      const symbols = stored
        .map((s) => (typeof s === "string" ? parseSymbol(s) : undefined))
        .filter((s): s is string => !!s);
      if (symbols.length > 0 || stored.length === 0) return [...new Set(symbols)];
    }
  } catch {
    // Unreadable: start over.
  }
  return [...DEFAULT_SYMBOLS];
}

export function saveWatchlist(symbols: string[]): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(symbols));
  } catch {
    // Private mode or full storage: the list just won't persist.
  }
}
