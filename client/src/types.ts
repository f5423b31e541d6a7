/**
 * What the server sends, typed by the server's own declarations (one source of truth: a
 * field added to the worker's tick is a field of the client's tick).
 */
import type { BarMessage, ViewersMessage } from "../../worker/broker/stream-frame";
import type { Bar, Interval } from "../../worker/market/bars";
import type { DelayedTick } from "../../worker/market/delay";
import type { MarketState } from "../../worker/market/hours";
import type { Session } from "../../worker/market/sessions";
import type { SymbolCheck } from "../../worker/market/symbol-policy";
import type { Tick as LiveTick } from "../../worker/market/tick";

export type { Bar, DelayedTick, Interval, LiveTick, MarketState, Session, SymbolCheck };

/** A `/topic/ticker.*` MESSAGE body: live, or delayed for a connection without a real-time entitlement. */
export type Tick = LiveTick | DelayedTick;

/** A `/topic/bars.*.1m` MESSAGE body: the forming one-minute bar, or a final one. */
export type BarUpdate = BarMessage;

/** A `/topic/viewers.*` MESSAGE body: live subscriptions of the symbol across the service. */
export type ViewerCount = ViewersMessage;

/** `GET /api/quotes`: the latest tick of each symbol, in the order asked. */
export interface QuotesAnswer {
  quotes: Tick[];
}

/** `GET /api/history/{SYMBOL}`: the last ticks, oldest first. */
export interface HistoryAnswer {
  symbol: string;
  ticks: Tick[];
}

/** `GET /api/bars/{SYMBOL}`: bars oldest first. */
export interface BarsAnswer {
  symbol: string;
  interval: Interval;
  bars: Bar[];
  /** The start of the forming bar when the last bar is it. */
  forming?: number;
  /** The session of the newest bar: "the day" starts at its open. */
  session?: Session;
  delayed?: boolean;
  delayMs?: number;
  /** Why the history is not complete yet (still being backfilled). */
  partial?: string;
}

/** `GET /api/symbols`: whether each symbol can be subscribed to, in the order asked. */
export interface SymbolsAnswer {
  symbols: SymbolCheck[];
}
