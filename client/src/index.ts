export { Api, type BarsQuery, CoreApi } from "./api";
export type { TransportChoice } from "./carrier";
export type { Refusal } from "./checks";
export { connect, TickerClient, type TickOptions } from "./client";
export {
  type ClientEvents,
  type ConnectOptions,
  type Delivery,
  type Gap,
  type Listener,
  type SubscribeOptions,
  TickerCore,
} from "./core";
export {
  type ClientErrorCode,
  EdgeTickerError,
  type ErrorCode,
  type HttpErrorCode,
  type ServerErrorCode,
  type StompErrorCode,
} from "./errors";
export type { Arrival, Position } from "./positions";
export type { SockJSConstructor } from "./sockjs";
export { type ConnectionState, type DropReason, isFailing, type StopReason } from "./state";
export type { Messages, StreamName, WireFormatName } from "./streams";
export type { Subscription } from "./subscription";
export type { TokenSource } from "./token-keeper";
export type * from "./types";
