import type { TransportChoice } from "./carrier";
import type { Refusal } from "./checks";
import type { EdgeTickerError } from "./errors";
import type { Arrival, Position } from "./positions";
import type { SockJSConstructor } from "./sockjs";
import type { ConnectionState } from "./state";
import type { StreamName, WireFormatName } from "./streams";
import type { TokenSource } from "./token-keeper";

/** What a client is told (connect's options) and tells (deliveries, events). */

export interface ConnectOptions {
  /** The Edge Ticker host, e.g. `https://ticker.example.com` (its `/ws` and `/sockjs` are used). */
  url: string;
  /** A subscriber token, or a function that answers a fresh one (called before each connect and before expiry). */
  token?: string | TokenSource;
  /** A URL answering a fresh token (text, or JSON `{"token": "..."}`), fetched with the page's cookies. */
  tokenUrl?: string;
  /** `auto` (default): WebSocket, SockJS when a WebSocket is blocked; or one of them only. */
  transport?: TransportChoice;
  /** The SockJS transports to use (default: every HTTP transport). */
  sockjsTransports?: string[];
  /** sockjs-client's constructor, if you bring your own (default: loaded when first needed). */
  sockjs?: SockJSConstructor;
  /** The heart-beat period asked for (default 10,000 ms; the server may ask for a longer one). */
  heartbeatMs?: number;
  /** Default `x-throttle-ms` of `ticks()` subscriptions that set none (default: every tick). */
  throttleMs?: number;
  /** Ask `/api/origin` whether this site may connect, and stop if not (for embeds on other sites). */
  checkOrigin?: boolean;
  /** How messages are encoded on the wire: `compact` (the default: short keys, only what changed; ~5× fewer bytes a tick), or `json` (what any STOMP client reads). */
  format?: WireFormatName;
}

/** How a message was delivered: live, replayed after a reconnect, or after a gap; and its stream position. */
export interface Delivery {
  arrival: Arrival;
  position: Position | undefined;
}
export type Listener<T> = (value: T, delivery: Delivery) => void;

/** Messages of a stream that could not be recovered after a reconnect (`missed`: how many, when known). */
export interface Gap {
  stream: StreamName;
  symbol: string;
  missed: number | undefined;
}

export interface ClientEvents {
  state: ConnectionState;
  gap: Gap;
  refused: Refusal;
  error: EdgeTickerError;
}

export interface SubscribeOptions {
  /** At most one message per this many ms, always the newest (100 to 60,000; ticks only). */
  throttleMs?: number;
  /** The host has no stream of this symbol (it does not know it, does not carry it, or refused it): the subscription ends. */
  onRefused?: (refusal: Refusal) => void;
  /** The subscription ended from the client's side (`close()`). */
  onClosed?: () => void;
}
