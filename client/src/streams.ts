import {
  BARS_DESTINATION,
  type Destination,
  nameOf,
  TICKER_DESTINATION,
  VIEWERS_DESTINATION,
} from "../../worker/broker/destinations";
import { BARS_KIND, type MessageKind, TICKS_KIND } from "../../worker/protocol/compact/fields";
import { CompactReader } from "../../worker/protocol/compact/reader";
import { type Arrival, arrivalOf, type Position, positionOf } from "./positions";
import type { BarUpdate, Tick, ViewerCount } from "./types";

/** What each kind of subscription delivers. */
export interface Messages {
  ticks: Tick;
  bars: BarUpdate;
  viewers: ViewerCount;
}
export type StreamName = keyof Messages;

/** One kind of subscription: the destination it names, and its messages' compact form, if they have one. */
export interface StreamSpec {
  destination: Destination;
  /** Its field table under `x-format:compact` (the server's own); none: JSON frames either way. */
  compact?: MessageKind;
}

/**
 * The kinds of subscription, in one table: the destination each one names (the server's own
 * forms). Ticks and bars carry positions to resume from; a viewer count has none (only its
 * newest value matters).
 */
export const STREAMS: Readonly<Record<StreamName, StreamSpec>> = {
  ticks: { destination: TICKER_DESTINATION, compact: TICKS_KIND },
  bars: { destination: BARS_DESTINATION, compact: BARS_KIND },
  viewers: { destination: VIEWERS_DESTINATION },
};

export function destinationFor(name: StreamName, symbol: string): string {
  return nameOf(STREAMS[name].destination, symbol);
}

/** A MESSAGE frame as the decoders see it. */
export interface WireFrame {
  headers: Record<string, string>;
  body: string;
}

/** A decoded message: its value, for a positioned stream where it stands, and how it came (replayed, after a gap). */
export interface Decoded<T> {
  value: T;
  position: Position | undefined;
  arrival: Arrival;
}

/**
 * Turns one subscription's MESSAGE frames into values. Made anew for each SUBSCRIBE (a
 * resume included), so a format whose frames build on the previous ones (deltas) starts
 * from the full message the server sends first.
 */
export type FrameDecoder<T> = (frame: WireFrame) => Decoded<T>;

/**
 * A wire format: the SUBSCRIBE headers that ask for it, and its decoder. The client
 * picks one per subscription; a second format (a compact encoding) is one more entry in
 * WIRE_FORMATS, and nothing else in the client changes.
 */
export interface WireFormat {
  readonly subscribeHeaders: Readonly<Record<string, string>>;
  /** Ticks subscriptions share watchlist batches (`/topic/tickers`, the compact form only). */
  readonly batches: boolean;
  decoder<N extends StreamName>(name: N): FrameDecoder<Messages[N]>;
}

/** Today's frames: a JSON body, the position in `x-seq` and `x-epoch`, marks in `x-replay` and `x-gap`. */
const JSON_FORMAT: WireFormat = {
  subscribeHeaders: {},
  batches: false,
  decoder: <N extends StreamName>() => {
    return (frame: WireFrame): Decoded<Messages[N]> => ({
      value: JSON.parse(frame.body) as Messages[N],
      position: positionOf(frame.headers),
      arrival: arrivalOf(frame.headers),
    });
  },
};

/**
 * The compact form (docs/protocol.md): one entry per MESSAGE, whole first, then only what
 * changed, read back into the plain body by the server's own reader; the position and the
 * marks are in the entry. Kinds without a compact form (viewer counts) keep JSON frames.
 * Ticks go in watchlist batches (batches.ts), one MESSAGE a round for all of them.
 */
const COMPACT_FORMAT: WireFormat = {
  subscribeHeaders: { "x-format": "compact" },
  batches: true,
  decoder: <N extends StreamName>(name: N): FrameDecoder<Messages[N]> => {
    const kind = STREAMS[name].compact;
    if (!kind) return JSON_FORMAT.decoder(name);
    const reader = new CompactReader(kind);
    return (frame: WireFrame): Decoded<Messages[N]> => {
      const entry = reader.single(frame.body);
      return { value: entry.value as unknown as Messages[N], position: entry.position, arrival: entry.arrival };
    };
  },
};

export const WIRE_FORMATS = { json: JSON_FORMAT, compact: COMPACT_FORMAT } satisfies Record<string, WireFormat>;
export type WireFormatName = keyof typeof WIRE_FORMATS;
