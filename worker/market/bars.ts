import { type Session, sessionAt } from "./sessions";

/**
 * OHLCV bars (pure). Trades are folded into one-minute bars within each market's sessions
 * (`sessions.ts`) by their own time; coarser intervals are derived from those on read. A bar
 * is final when its interval ends on the feed's clock; a late trade within CORRECTION_MS of
 * its minute's end corrects it (a new revision), a later one is refused.
 */

export const INTERVALS = ["1m", "5m", "15m", "1h", "1d"] as const;
export type Interval = (typeof INTERVALS)[number];

export function isInterval(value: string): value is Interval {
  return (INTERVALS as readonly string[]).includes(value);
}

/** Length of each interval; a day bar spans its session (at most a day). */
export const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
  "1d": 86_400_000,
};
export const MINUTE_MS = 60_000;

/** A type, not an interface: it is also a SQL row. */
export type Bar = {
  /** Epoch ms the bar starts (a day bar: its session's open). */
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  /** Volume traded within the bar (its ticks' sizes). */
  v: number;
  /** Ticks folded into it. */
  n: number;
};

/** The part of a tick bars use. */
export interface BarTick {
  /** The trade's own time (epoch ms): the bar it belongs to. */
  ts: number;
  price: number;
  /** What traded in the tick (a stream window's sizes, or what a polled day total grew by). */
  size?: number;
}

/**
 * How long after its minute ends, on the feed's clock, a bar still takes a late trade (a
 * correction): 15 minutes, as Massive (Polygon) holds its minute aggregates open for late
 * reports. A trade later than that is refused by the bars (`ignored`, `too-late`).
 */
export const CORRECTION_MS = 15 * 60_000;

/**
 * A stored bar with the times of its first and last trade, which a late trade needs: it
 * becomes the open when it is earlier than the first, the close when it is not earlier than
 * the last (trades with the same time: the later arrival is the later trade).
 */
export type TimedBar = Bar & { ot: number; ct: number };

/** Where the builder keeps its bars: a forming bar is written after every tick, a corrected one when corrected. */
export interface BarStore {
  get(t: number): TimedBar | undefined;
  put(bar: TimedBar): void;
}

/** The bar's OHLCV fields only (what is sent and served). */
export function plainBar({ t, o, h, l, c, v, n }: Bar): Bar {
  return { t, o, h, l, c, v, n };
}

/** `bar` (starting at `t`; none yet: a new one) with one more trade. */
export function withTrade(bar: TimedBar | undefined, t: number, tick: BarTick, size: number): TimedBar {
  const p = tick.price;
  if (!bar) return { t, o: p, h: p, l: p, c: p, v: size, n: 1, ot: tick.ts, ct: tick.ts };
  const first = tick.ts < bar.ot;
  const last = tick.ts >= bar.ct;
  return {
    t,
    o: first ? p : bar.o,
    h: Math.max(bar.h, p),
    l: Math.min(bar.l, p),
    c: last ? p : bar.c,
    v: bar.v + size,
    n: bar.n + 1,
    ot: first ? tick.ts : bar.ot,
    ct: last ? tick.ts : bar.ct,
  };
}

/**
 * Where the bar of `interval` holding `ts` (inside `session`) starts and ends. Intraday
 * buckets are aligned to the clock: New York's offset is whole hours, so UTC-aligned
 * minutes and hours are the exchange's too. A bucket never reaches past its session.
 */
export function bucketOf(interval: Interval, session: Session, ts: number): { start: number; end: number } {
  if (interval === "1d") return { start: session.open, end: session.close };
  const ms = INTERVAL_MS[interval];
  const start = Math.max(Math.floor(ts / ms) * ms, session.open);
  return { start, end: Math.min(Math.floor(ts / ms) * ms + ms, session.close) };
}

/** When a stored bar of `interval` starting at `t` ends (`t` inside a session of `symbol`). */
export function barEnd(symbol: string, interval: Interval, t: number): number {
  const session = sessionAt(symbol, t);
  return session ? bucketOf(interval, session, t).end : t + MINUTE_MS;
}

/** What adding a tick did. */
export type BarChange =
  | { kind: "ignored"; reason: "outside-session" | "too-late" }
  /** `bar` is the forming bar after the tick; `finalized` the bars that ended before it. */
  | { kind: "updated"; bar: Bar; finalized: Bar[] }
  /** A final bar took a late trade: `bar` is its new revision. */
  | { kind: "corrected"; bar: Bar }
  /** A late trade in a minute that had none: its bar, final at once. */
  | { kind: "added"; bar: Bar };

/**
 * Folds trades into bars of one interval for one symbol, by each trade's own time whatever
 * the order they arrive in: the open is the earliest trade, the close the latest, so a
 * coarser interval derived from one-minute bars equals building it directly. `clock` is the
 * feed's clock (a provider-delayed feed's is behind this server's): a bar is final once its
 * interval has ended on it, and a trade whose minute ended more than `windowMs` before it is
 * refused. Every interval judges lateness by the trade's minute, so every interval takes or
 * refuses the same trades.
 */
export class BarBuilder {
  private current: { bar: TimedBar; end: number } | undefined;

  constructor(
    private readonly symbol: string,
    private readonly interval: Interval,
    private readonly store: BarStore,
    /** The forming bar as stored (after a restart). */
    resume: { forming?: TimedBar } = {},
    private readonly windowMs = CORRECTION_MS,
  ) {
    if (resume.forming) this.current = { bar: { ...resume.forming }, end: barEnd(symbol, interval, resume.forming.t) };
  }

  /** The bar being formed and when it ends, if it has not ended by `clock` (the builder's own: copy before keeping). */
  forming(clock: number): { readonly bar: TimedBar; readonly end: number } | undefined {
    return this.current && clock < this.current.end ? this.current : undefined;
  }

  /** Closes the forming bar once its interval has ended; returns it then (final). */
  close(clock: number): Bar[] {
    if (!this.current || clock < this.current.end) return [];
    const { bar } = this.current;
    this.current = undefined;
    return [plainBar(bar)];
  }

  /** Folds `tick` in, arriving at `clock` on its feed's clock. */
  add(tick: BarTick, clock: number): BarChange {
    const traded = tick.size ?? 0;
    const session = sessionAt(this.symbol, tick.ts);
    if (!session) return { kind: "ignored", reason: "outside-session" };
    if (Math.floor(tick.ts / MINUTE_MS) * MINUTE_MS + MINUTE_MS + this.windowMs <= clock)
      return { kind: "ignored", reason: "too-late" };
    const { start, end } = bucketOf(this.interval, session, tick.ts);
    const current = this.current;
    if (current && current.bar.t === start) {
      current.bar = withTrade(current.bar, start, tick, traded);
      this.store.put(current.bar);
      return { kind: "updated", bar: plainBar(current.bar), finalized: [] };
    }
    // Its bar is final: closed when a later one started, or by the clock.
    if ((current && start < current.bar.t) || (!current && end <= clock)) {
      const stored = this.store.get(start);
      const bar = withTrade(stored, start, tick, traded);
      this.store.put(bar);
      return { kind: stored ? "corrected" : "added", bar: plainBar(bar) };
    }
    // A later bar: it forms now (the clock closes it if it has ended already), the one before is final.
    const finalized = current ? [plainBar(current.bar)] : [];
    this.current = { bar: withTrade(this.store.get(start), start, tick, traded), end };
    this.store.put(this.current.bar);
    return { kind: "updated", bar: plainBar(this.current.bar), finalized };
  }
}

/**
 * Coarser bars from one-minute bars (oldest first): each bar of `interval` is the
 * one-minute bars inside it, exactly what building it directly from the ticks gives.
 */
export function aggregate(symbol: string, minuteBars: readonly Bar[], interval: Interval): Bar[] {
  if (interval === "1m") return minuteBars.map((b) => ({ ...b }));
  const out: Bar[] = [];
  let current: Bar | undefined;
  for (const b of minuteBars) {
    const session = sessionAt(symbol, b.t);
    if (!session) continue;
    const { start } = bucketOf(interval, session, b.t);
    if (current && current.t === start) {
      current.h = Math.max(current.h, b.h);
      current.l = Math.min(current.l, b.l);
      current.c = b.c;
      current.v += b.v;
      current.n += b.n;
    } else {
      current = { ...b, t: start };
      out.push(current);
    }
  }
  return out;
}

/** The day's figures a ticker shows beside the price, from the newest session's one-minute bars. */
export interface DayFigures {
  open: number;
  high: number;
  low: number;
  /** What the session's one-minute bars add up to. */
  dayVolume: number;
  /** The previous session's last close. */
  prevClose?: number;
}

/** The figures of the session the newest of `minuteBars` (oldest first) is in. */
export function dayFigures(symbol: string, minuteBars: readonly Bar[]): DayFigures | undefined {
  const last = minuteBars.at(-1);
  const session = last && sessionAt(symbol, last.t);
  if (!session) return undefined;
  const first = minuteBars.findIndex((b) => b.t >= session.open);
  const today = minuteBars.slice(first);
  const day = aggregate(symbol, today, "1d")[0]!;
  const prevClose = first > 0 ? minuteBars[first - 1]!.c : undefined;
  return { open: day.o, high: day.h, low: day.l, dayVolume: day.v, ...(prevClose === undefined ? {} : { prevClose }) };
}
