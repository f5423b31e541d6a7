import {
  BARS_DESTINATION,
  type Destination,
  nameOf,
  TICKER_DESTINATION,
  VIEWERS_DESTINATION,
} from "../../worker/broker/destinations";
import { type Position, positionOf } from "./positions";
import type { BarUpdate, Tick, ViewerCount } from "./types";

/** What each kind of subscription delivers. */
export interface Messages {
  ticks: Tick;
  bars: BarUpdate;
  viewers: ViewerCount;
}
export type StreamName = keyof Messages;

/**
 * The kinds of subscription, in one table: the destination each one names (the server's own
 * forms). Ticks and bars carry positions to resume from; a viewer count has none (only its
 * newest value matters).
 */
export const STREAMS: Readonly<Record<StreamName, Destination>> = {
  ticks: TICKER_DESTINATION,
  bars: BARS_DESTINATION,
  viewers: VIEWERS_DESTINATION,
};

export function destinationFor(name: StreamName, symbol: string): string {
  return nameOf(STREAMS[name], symbol);
}

/** A MESSAGE frame as the decoders see it. */
export interface WireFrame {
  headers: Record<string, string>;
  body: string;
}

/** A decoded message: its value and, for a positioned stream, where it stands. */
export interface Decoded<T> {
  value: T;
  position: Position | undefined;
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
  decoder<N extends StreamName>(name: N): FrameDecoder<Messages[N]>;
}

/** Today's frames: a JSON body, the position in `x-seq` and `x-epoch`. */
const JSON_FORMAT: WireFormat = {
  subscribeHeaders: {},
  decoder: <N extends StreamName>() => {
    return (frame: WireFrame): Decoded<Messages[N]> => ({
      value: JSON.parse(frame.body) as Messages[N],
      position: positionOf(frame.headers),
    });
  },
};

export const WIRE_FORMATS = { json: JSON_FORMAT } satisfies Record<string, WireFormat>;
export type WireFormatName = keyof typeof WIRE_FORMATS;
