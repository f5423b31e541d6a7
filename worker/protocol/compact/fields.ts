import type { Bar } from "../../market/bars";
import type { DelayedTick } from "../../market/delay";

/**
 * How each field of a message travels in the compact form (`x-format:compact`): its short
 * key, whether a delta carries the difference from the previous value (times), and whether
 * the reader can work it out from the other fields (sent only when it cannot). One table per
 * kind of message; a field missing from a table travels under its own name. Pure.
 */

/** A message body as JSON: field name → value. */
export type Rec = Record<string, unknown>;

export interface FieldRule {
  /** Its key in compact entries. */
  key: string;
  /** In a delta, the difference from the previous message's value (integer milliseconds). */
  relative?: true;
  /**
   * The value a reader works out from the message decoded so far (`rec`: every field not
   * derived, and the derived ones above this one) and the previous message (`base`, none in
   * a whole entry); `undefined` when it cannot, and then the value is the previous message's
   * (a whole entry: absent). Sent only when the value differs from that.
   */
  derive?: (rec: Rec, base: Rec | undefined) => unknown;
}

/** What a codec needs of a kind of message. */
export interface MessageKind {
  name: string;
  /** Field name → rule, in the order a reader applies them (derived fields after what they read). */
  fields: Readonly<Record<string, FieldRule>>;
  /** The body field that repeats the entry's stream position (a tick's `seq`), if any. */
  position?: string;
}

/** Keys of an entry that are not fields: its position, and how it reached the subscription. */
export const CONTROL_KEYS = { seq: "q", epoch: "e", replay: "r", gap: "g" } as const;

/** As `round` in market/tick.ts, written again so a reader needs nothing else: JavaScript's `Math.round`. */
function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const num = (v: unknown): v is number => typeof v === "number";

/** Every field a tick body may carry (live and delayed); the compiler checks that none is missing. */
type TickField = keyof Required<DelayedTick> | "size" | "dayVolume" | "volume24h";

export const TICK_FIELDS = {
  symbol: { key: "s" },
  price: { key: "p" },
  ts: { key: "t", relative: true },
  size: { key: "z" },
  bid: { key: "b" },
  ask: { key: "a" },
  open: { key: "o" },
  high: { key: "h" },
  low: { key: "l" },
  prevClose: { key: "c" },
  volume24h: { key: "v24" },
  marketState: { key: "m" },
  currency: { key: "cu" },
  source: { key: "so" },
  stale: { key: "x" },
  staleAfterMs: { key: "sa" },
  gap: { key: "gp" },
  delayed: { key: "d" },
  delayMs: { key: "dm" },
  // The entry's position (`q`), never a field of its own.
  seq: { key: "q" },
  // Derived: `change` and `changePercent` as the server computes them from price and prevClose.
  change: {
    key: "ch",
    derive: (r) => (num(r.price) && num(r.prevClose) ? round(r.price - r.prevClose, 6) : undefined),
  },
  changePercent: {
    key: "cp",
    derive: (r) => (num(r.change) && num(r.prevClose) ? round((r.change / r.prevClose) * 100, 4) : undefined),
  },
  // The day's running volume grows by each tick's size; `volume` is its older name.
  dayVolume: {
    key: "v",
    derive: (r, base) => (base && num(base.dayVolume) ? base.dayVolume + (num(r.size) ? r.size : 0) : undefined),
  },
  volume: { key: "vo", derive: (r) => r.dayVolume },
} as const satisfies Record<TickField, FieldRule>;

/** Every field a bar update's body carries (`/topic/bars.{SYMBOL}.1m`). */
type BarField = keyof Bar | "symbol" | "interval" | "final" | "delayed" | "delayMs";

export const BAR_FIELDS = {
  symbol: { key: "s" },
  interval: { key: "i" },
  t: { key: "t", relative: true },
  o: { key: "o" },
  h: { key: "h" },
  l: { key: "l" },
  c: { key: "c" },
  v: { key: "v" },
  n: { key: "n" },
  final: { key: "f" },
  delayed: { key: "d" },
  delayMs: { key: "dm" },
} as const satisfies Record<BarField, FieldRule>;

/** The kinds of message the compact form carries; a tick's position is its `seq`. */
export const TICKS_KIND: MessageKind = { name: "tick", fields: TICK_FIELDS, position: "seq" };
export const BARS_KIND: MessageKind = { name: "bar", fields: BAR_FIELDS };
