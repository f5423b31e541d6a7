import type { Quote } from "../market/tick";
import type { BrokerMeter } from "../metrics/hub-metrics";
import type { Refusal } from "./refusal";
import type { StreamFrame } from "./stream-frame";
import type { Stream } from "./streams";

/** A source's answer to an attach: the snapshot (one frame, a bar stream's several, none yet), or why not. */
export type AttachAnswer = StreamFrame | StreamFrame[] | undefined | Refusal;

/** What a hub needs from the symbol sources (RPC in production, fakes in unit tests). */
export interface Sources {
  /**
   * Registers this hub as holding `count` subscriptions of `stream`; returns the stream's
   * latest frame (none yet: a delayed stream still waiting for its first), or for a bar
   * stream its snapshot: the recent final bars and the forming one, oldest first; or why
   * not. `by`: whom a symbol this brings in is charged to (shareKeyOf).
   */
  attach(stream: Stream, count: number, by?: string): Promise<AttachAnswer>;
  /** Reports this hub's subscription count of `stream` (0: stop delivering here). */
  interest(stream: Stream, count: number): Promise<void>;
  /** The frames of a ticker or delayed stream with `after < seq < before`, oldest first, at most `limit`. */
  range(stream: Stream, after: number, before: number, limit: number): Promise<StreamFrame[]>;
  publish(quote: Quote): Promise<void>;
}

export interface HubTimers {
  /** Runs `fn` after `ms` (the interest debounce). */
  later(fn: () => void, ms: number): void;
}

export interface HubOptions {
  /** How long count changes gather before they are reported upstream. */
  debounceMs: number;
  /** Most ticks one resuming subscription is sent; a longer absence is a gap. */
  maxReplay: number;
  /** Counts deliveries, their lag, replays and gaps (absent with METRICS=off). */
  meter?: BrokerMeter;
}
