/**
 * The destinations subscribers name, one form per named stream (the table of stream kinds in
 * streams.ts says which kind each is; a delayed kind shares its live kind's). Apart from the
 * table so that a client naming destinations carries these few strings, not the table. Pure.
 */
export interface Destination {
  prefix: string;
  suffix: string;
  /** Why a destination with this prefix and another suffix is refused (how to name it instead). */
  otherwise?: string;
}

export const TICKER_DESTINATION: Destination = { prefix: "/topic/ticker.", suffix: "" };
export const VIEWERS_DESTINATION: Destination = { prefix: "/topic/viewers.", suffix: "" };
/** The one bar interval streamed; coarser ones are derived by clients or read from /api/bars. */
export const BARS_DESTINATION: Destination = {
  prefix: "/topic/bars.",
  suffix: ".1m",
  otherwise: "bars stream as /topic/bars.{SYMBOL}.1m (coarser intervals: GET /api/bars)",
};

/** A symbol's destination of one form: `/topic/bars.AAPL.1m`. */
export function nameOf(destination: Destination, symbol: string): string {
  return `${destination.prefix}${symbol}${destination.suffix}`;
}
