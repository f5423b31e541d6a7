import { echo } from "../protocol/echo";

/** Ticker symbols (the STOMP destinations that name them: broker/streams.ts). */

/** Checked before upper-casing: Unicode case folding would turn `ſPY` into `SPY`. */
const SYMBOL = /^[A-Za-z0-9.\-^=]{1,16}$/;

export class SymbolError extends Error {}

/** Upper-cases and validates a symbol such as `brk.b`, `^GSPC`, `EURUSD=X` or `BTC-USD`. */
export function normalizeSymbol(raw: string): string {
  const symbol = raw.trim();
  if (!SYMBOL.test(symbol))
    throw new SymbolError(`invalid symbol "${echo(raw, 32)}": use 1-16 characters of A-Z 0-9 . - ^ =`);
  return symbol.toUpperCase();
}
