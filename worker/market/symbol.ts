/** Ticker symbols and the STOMP destinations that name them. */

const SYMBOL = /^[A-Z0-9.\-^=]{1,16}$/;
const TOPIC_PREFIX = "/topic/ticker.";

export class SymbolError extends Error {}

/** Upper-cases and validates a symbol such as `brk.b`, `^GSPC`, `EURUSD=X` or `BTC-USD`. */
export function normalizeSymbol(raw: string): string {
  const symbol = raw.trim().toUpperCase();
  if (!SYMBOL.test(symbol)) {
    throw new SymbolError(
      `invalid symbol "${raw.slice(0, 32)}": use 1-16 characters of A-Z 0-9 . - ^ =`,
    );
  }
  return symbol;
}

export function topicFor(symbol: string): string {
  return TOPIC_PREFIX + symbol;
}

/** The symbol of a `/topic/ticker.{SYMBOL}` destination, or an error saying what is wrong. */
export function symbolFromDestination(destination: string): string {
  if (!destination.startsWith(TOPIC_PREFIX)) {
    throw new SymbolError(`unknown destination "${destination.slice(0, 64)}": expected ${TOPIC_PREFIX}{SYMBOL}`);
  }
  return normalizeSymbol(destination.slice(TOPIC_PREFIX.length));
}
