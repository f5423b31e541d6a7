import { type Session, sessionAt } from "./sessions";

/**
 * OHLCV bars (pure). Ticks are folded into one-minute bars within each market's sessions
 * (`sessions.ts`); coarser intervals are derived from those on read. A bar is final when
 * its interval ends on the clock: a late tick (its time inside an earlier bar) still
 * corrects the forming bar, never a final one.
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
  /** Volume traded within the bar: the sizes of its ticks, summed. */
  v: number;
  /** Ticks folded into it. */
  n: number;
};

/** The part of a tick bars use. */
export interface BarTick {
  ts: number;
  price: number;
  /** What traded in the tick (a stream window's sizes, or what a polled day total grew by). */
  size?: number;
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
  | { kind: "ignored"; reason: "outside-session" | "late" }
  /** `bar` is the forming bar after the tick; `finalized` the bars that ended before it. */
  | { kind: "updated"; bar: Bar; finalized: Bar[] };

/** Folds ticks into bars of one interval for one symbol; a bar's volume is its ticks' sizes, summed. */
export class BarBuilder {
  private current: { bar: Bar; end: number } | undefined;

  constructor(
    private readonly symbol: string,
    private readonly interval: Interval,
    /** The forming bar as stored (after a restart). */
    resume: { forming?: Bar } = {},
  ) {
    if (resume.forming) this.current = { bar: { ...resume.forming }, end: barEnd(symbol, interval, resume.forming.t) };
  }

  /** The bar being formed and when it ends, if it has not ended by `now` (the builder's own: copy before keeping). */
  forming(now: number): { readonly bar: Bar; readonly end: number } | undefined {
    return this.current && now < this.current.end ? this.current : undefined;
  }

  /** Closes the forming bar once its interval has ended; returns it then (final). */
  close(now: number): Bar[] {
    if (!this.current || now < this.current.end) return [];
    const { bar } = this.current;
    this.current = undefined;
    return [bar];
  }

  /** Folds `tick` in at `now` (the tick's time is never after `now`). */
  add(tick: BarTick, now: number): BarChange {
    const traded = tick.size ?? 0;
    const session = sessionAt(this.symbol, tick.ts);
    if (!session) return { kind: "ignored", reason: "outside-session" };
    const { start, end } = bucketOf(this.interval, session, tick.ts);
    // Its bar ended already (by the clock, or a later bar is forming): that bar is final.
    if (now >= end || (this.current && start < this.current.bar.t)) return { kind: "ignored", reason: "late" };
    const finalized = this.current && this.current.bar.t !== start ? this.close(Math.max(now, this.current.end)) : [];
    if (!this.current) {
      this.current = {
        bar: { t: start, o: tick.price, h: tick.price, l: tick.price, c: tick.price, v: traded, n: 1 },
        end,
      };
    } else {
      const bar = this.current.bar;
      bar.h = Math.max(bar.h, tick.price);
      bar.l = Math.min(bar.l, tick.price);
      bar.c = tick.price;
      bar.v += traded;
      bar.n += 1;
    }
    return { kind: "updated", bar: { ...this.current.bar }, finalized };
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
