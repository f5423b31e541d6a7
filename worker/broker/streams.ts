import { normalizeSymbol, SymbolError } from "../market/symbol";
import { BARS_KIND, type MessageKind, TICKS_KIND } from "../protocol/compact/fields";
import { echo } from "../protocol/echo";
import { BARS_DESTINATION, type Destination, nameOf, TICKER_DESTINATION, VIEWERS_DESTINATION } from "./destinations";

/**
 * The kinds of stream a symbol has, in one table: what subscribers name, what a connection
 * without a real-time entitlement gets instead, whether positions resume, what holding one
 * means to the source. The session, the hub's broker and the source read it; a new kind is a
 * row here and a behaviour in the source (objects/source/streams.ts). Pure.
 */
export type StreamKind = "ticker" | "delayed" | "viewers" | "bars" | "delayed-bars";

/** The tick streams: live, and each tick released once it is PUBLIC_DELAY_MS old. */
export const TICKS = { live: "ticker", delayed: "delayed" } as const satisfies Record<string, StreamKind>;
/** The one-minute bar streams: live (final and forming bars), and final bars once they ended PUBLIC_DELAY_MS ago. */
export const BARS = { live: "bars", delayed: "delayed-bars" } as const satisfies Record<string, StreamKind>;
/** How many subscriptions a symbol has across every hub. */
export const VIEWERS = "viewers" satisfies StreamKind;

export interface StreamSpec {
  /** What subscribers name (a delayed kind shares its live kind's). */
  destination: Destination;
  /** Named in SUBSCRIBE; the delayed kinds are chosen for a connection, never named. */
  named: boolean;
  /** What a connection without a real-time entitlement gets instead. */
  delayedAs?: StreamKind;
  /** Market data under the token's entitlements (`sym`, `rt`), not a count. */
  licensed: boolean;
  /** Each message released only once it is PUBLIC_DELAY_MS old. */
  delayed: boolean;
  /** Messages carry positions: `x-since` resumes, and a hub fills a jump from the source's log. */
  positioned: boolean;
  /** Being held keeps the symbol active at its scheduler (it needs prices). */
  activates: boolean;
  /** Its subscriptions are the symbol's viewers. */
  countsViewers: boolean;
  /** The source's SQLite table of the hubs holding it. */
  holdersTable: string;
  /** Its messages in the compact form (`x-format:compact`); none: the same frames either way. */
  compact?: MessageKind;
}

const MARKET = { named: false, licensed: true, positioned: true, activates: true } as const;

export const STREAMS: Readonly<Record<StreamKind, StreamSpec>> = {
  [TICKS.live]: {
    ...MARKET,
    destination: TICKER_DESTINATION,
    named: true,
    delayedAs: TICKS.delayed,
    delayed: false,
    countsViewers: true,
    holdersTable: "holders",
    compact: TICKS_KIND,
  },
  [TICKS.delayed]: {
    ...MARKET,
    destination: TICKER_DESTINATION,
    delayed: true,
    countsViewers: true,
    holdersTable: "delayed_holders",
    compact: TICKS_KIND,
  },
  [VIEWERS]: {
    destination: VIEWERS_DESTINATION,
    named: true,
    licensed: false,
    delayed: false,
    positioned: false,
    activates: false,
    countsViewers: false,
    holdersTable: "watchers",
  },
  [BARS.live]: {
    ...MARKET,
    destination: BARS_DESTINATION,
    named: true,
    delayedAs: BARS.delayed,
    delayed: false,
    countsViewers: false,
    holdersTable: "bar_holders",
    compact: BARS_KIND,
  },
  [BARS.delayed]: {
    ...MARKET,
    destination: BARS_DESTINATION,
    delayed: true,
    countsViewers: false,
    holdersTable: "delayed_bar_holders",
    compact: BARS_KIND,
  },
};

// Pure: a bundle that only names destinations (the client, the widget) leaves the lists out.
export const STREAM_KINDS = /* @__PURE__ */ Object.keys(STREAMS) as StreamKind[];

/**
 * Batch destinations: one subscription to a kind's streams of many symbols (named in
 * `x-symbols`), each delivery round of them in one MESSAGE of compact entries.
 */
export const BATCHES: Readonly<Record<string, StreamKind>> = { "/topic/tickers": TICKS.live };

export interface Stream {
  kind: StreamKind;
  symbol: string;
}

const NAMED = /* @__PURE__ */ STREAM_KINDS.filter((k) => STREAMS[k].named);

/** `/topic/ticker.AAPL` → the ticker stream of AAPL; `/topic/viewers.AAPL` → its viewer count; `/topic/bars.AAPL.1m` → its bars. */
export function streamFromDestination(destination: string): Stream {
  for (const kind of NAMED) {
    const { prefix, suffix, otherwise } = STREAMS[kind].destination;
    if (!destination.startsWith(prefix)) continue;
    if (!destination.endsWith(suffix) || destination.length < prefix.length + suffix.length) {
      throw new SymbolError(`unknown destination "${echo(destination, 64)}": ${otherwise}`);
    }
    return { kind, symbol: normalizeSymbol(destination.slice(prefix.length, destination.length - suffix.length)) };
  }
  const forms = NAMED.map(destinationForm);
  throw new SymbolError(
    `unknown destination "${echo(destination, 64)}": expected ${forms.slice(0, -1).join(", ")} or ${forms.at(-1)}`,
  );
}

/** How subscribers name a kind: `/topic/bars.{SYMBOL}.1m`. */
export function destinationForm(kind: StreamKind): string {
  return nameOf(STREAMS[kind].destination, "{SYMBOL}");
}

/** The stream a connection gets for `named`: its delayed kind without a real-time entitlement. */
export function entitledKind(named: StreamKind, realtime: boolean): StreamKind {
  return realtime ? named : (STREAMS[named].delayedAs ?? named);
}

/** One name per stream, used to index subscriptions and route frames: `ticker.AAPL`, `bars.AAPL`, … */
export function streamKey(stream: Stream): string {
  return `${stream.kind}.${stream.symbol}`;
}

/** The stream a key names (the inverse of `streamKey`). */
export function streamOfKey(key: string): Stream {
  const dot = key.indexOf(".");
  return { kind: key.slice(0, dot) as StreamKind, symbol: key.slice(dot + 1) };
}

/** The destination a stream's MESSAGE frames carry: the one its subscribers named. */
export function destinationOf(stream: Stream): string {
  return nameOf(STREAMS[stream.kind].destination, stream.symbol);
}

/** The destination of a symbol's ticks. */
export function topicFor(symbol: string): string {
  return destinationOf({ kind: TICKS.live, symbol });
}

/** The symbol of a `/topic/ticker.{SYMBOL}` destination (where only ticks make sense: SEND), or why not. */
export function symbolFromDestination(destination: string): string {
  const { prefix } = STREAMS[TICKS.live].destination;
  if (!destination.startsWith(prefix)) {
    throw new SymbolError(`unknown destination "${echo(destination, 64)}": expected ${prefix}{SYMBOL}`);
  }
  return normalizeSymbol(destination.slice(prefix.length));
}
