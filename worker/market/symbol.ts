import { echo } from "../protocol/echo";

/** Ticker symbols and the STOMP destinations that name them. */

/** Checked before upper-casing: Unicode case folding would turn `ſPY` into `SPY`. */
const SYMBOL = /^[A-Za-z0-9.\-^=]{1,16}$/;
const TOPIC_PREFIX = "/topic/ticker.";

export class SymbolError extends Error {}

/** Upper-cases and validates a symbol such as `brk.b`, `^GSPC`, `EURUSD=X` or `BTC-USD`. */
export function normalizeSymbol(raw: string): string {
  const symbol = raw.trim();
  if (!SYMBOL.test(symbol))
    throw new SymbolError(`invalid symbol "${echo(raw, 32)}": use 1-16 characters of A-Z 0-9 . - ^ =`);
  return symbol.toUpperCase();
}

export function topicFor(symbol: string): string {
  return TOPIC_PREFIX + symbol;
}

/**
 * What a subscription watches: a symbol's ticks, the same ticks each released once it
 * is PUBLIC_DELAY_MS old (for connections without a real-time entitlement; clients still
 * name it `/topic/ticker.{SYMBOL}`), how many subscriptions the symbol has, or its
 * one-minute bars (`bars`; `delayed-bars`, final bars once they ended PUBLIC_DELAY_MS ago,
 * under the same `/topic/bars.{SYMBOL}.1m`).
 */
export type StreamKind = "ticker" | "delayed" | "viewers" | "bars" | "delayed-bars";

const BARS_PREFIX = "/topic/bars.";
/** The one bar interval streamed; coarser ones are derived by clients or read from /api/bars. */
const BARS_SUFFIX = ".1m";

export interface Stream {
  kind: StreamKind;
  symbol: string;
}

const STREAM_PREFIXES: ReadonlyArray<readonly [string, StreamKind]> = [
  [TOPIC_PREFIX, "ticker"],
  ["/topic/viewers.", "viewers"],
];

/** `/topic/ticker.AAPL` → the ticker stream of AAPL; `/topic/viewers.AAPL` → its viewer count; `/topic/bars.AAPL.1m` → its bars. */
export function streamFromDestination(destination: string): Stream {
  for (const [prefix, kind] of STREAM_PREFIXES) {
    if (destination.startsWith(prefix)) return { kind, symbol: normalizeSymbol(destination.slice(prefix.length)) };
  }
  if (destination.startsWith(BARS_PREFIX)) {
    if (!destination.endsWith(BARS_SUFFIX)) {
      throw new SymbolError(
        `unknown destination "${echo(destination, 64)}": bars stream as /topic/bars.{SYMBOL}.1m (coarser intervals: GET /api/bars)`,
      );
    }
    return { kind: "bars", symbol: normalizeSymbol(destination.slice(BARS_PREFIX.length, -BARS_SUFFIX.length)) };
  }
  throw new SymbolError(
    `unknown destination "${echo(destination, 64)}": expected /topic/ticker.{SYMBOL}, /topic/viewers.{SYMBOL} or /topic/bars.{SYMBOL}.1m`,
  );
}

/** The symbol of a `/topic/ticker.{SYMBOL}` destination (where only ticks make sense: SEND), or why not. */
export function symbolFromDestination(destination: string): string {
  if (!destination.startsWith(TOPIC_PREFIX)) {
    throw new SymbolError(`unknown destination "${echo(destination, 64)}": expected ${TOPIC_PREFIX}{SYMBOL}`);
  }
  return normalizeSymbol(destination.slice(TOPIC_PREFIX.length));
}

/** One name per stream, used to index subscriptions and route frames: `ticker.AAPL`, `delayed.AAPL`, `viewers.AAPL`, `bars.AAPL`, `delayed-bars.AAPL`. */
export function streamKey(stream: Stream): string {
  return `${stream.kind}.${stream.symbol}`;
}

/** The stream a key names (the inverse of `streamKey`). */
export function streamOfKey(key: string): Stream {
  const dot = key.indexOf(".");
  return { kind: key.slice(0, dot) as StreamKind, symbol: key.slice(dot + 1) };
}

/** The destination a stream's MESSAGE frames carry: the one its subscribers named. */
export function destinationOf(key: string): string {
  if (key.startsWith("delayed.")) return TOPIC_PREFIX + key.slice("delayed.".length);
  if (key.startsWith("bars.")) return `/topic/${key}${BARS_SUFFIX}`;
  if (key.startsWith("delayed-bars.")) return BARS_PREFIX + key.slice("delayed-bars.".length) + BARS_SUFFIX;
  return `/topic/${key}`;
}
