import { assetClass, tradingDay } from "./hours";

/**
 * What a tick says about volume (pure): `size`, what traded in it, and `dayVolume`, the
 * session's running total. A stream says sizes; a REST snapshot says the provider's day
 * total; either may come first, and they hand over to each other after every outage.
 */

/**
 * A polled day total's growth counts as traded in the polled tick only when the previous
 * observation is this recent (or two polling periods, when the budget polls slower): a
 * symbol nobody watched for hours does not put the hours' volume into one bar.
 */
export const VOLUME_ATTRIBUTION_MS = 120_000;

const HOUR_MS = 3_600_000;

/**
 * The day a symbol's volume counts toward, reset at its market's session start: equities the
 * New York date (pre- and after-hours trades count, as the tape's volume does), crypto the UTC
 * date, FX the session day that starts at 17:00 New York time.
 */
export function volumeDay(symbol: string, ts: number): string {
  switch (assetClass(symbol)) {
    case "crypto":
      return new Date(ts).toISOString().slice(0, 10);
    case "fx":
      return tradingDay(ts + 7 * HOUR_MS);
    case "equity":
    case "index":
      return tradingDay(ts);
  }
}

/** The previous tick's part the rule reads. */
export interface VolumeState {
  ts: number;
  dayVolume?: number;
}

/** What one observation says: a size (stream, publisher, simulator) and/or the provider's day total. */
export interface VolumeReport {
  size?: number;
  dayVolume?: number;
}

export interface VolumeFigures {
  size?: number;
  dayVolume?: number;
}

/**
 * The tick's figures: the day total is the provider's figure or the previous total plus the
 * size, whichever is larger (a total never falls within a day: a snapshot that lags the stream
 * does not take back what was streamed, and one that saw trades the stream missed adds them
 * once). Without a size, what the provider's total grew by is the tick's size, if the previous
 * observation of the same day is within `attributionMs`; otherwise 0 (it is in the total,
 * in no bar); with one, so is what the figure adds to the running total (trades nobody
 * streamed). A new day starts from the provider's figure or from the size alone.
 */
export function volumeFigures(
  symbol: string,
  previous: VolumeState | undefined,
  report: VolumeReport,
  ts: number,
  attributionMs = VOLUME_ATTRIBUTION_MS,
): VolumeFigures {
  const sameDay = previous !== undefined && volumeDay(symbol, previous.ts) === volumeDay(symbol, ts);
  const before = sameDay ? previous.dayVolume : undefined;
  const reported = report.dayVolume;
  if (report.size !== undefined) {
    const running = before !== undefined ? before + report.size : sameDay ? undefined : report.size;
    // A new day with no figure yet: the size is all the day has traded only if the day began just now.
    const newDayStart = !sameDay && previous !== undefined && ts - previous.ts <= attributionMs;
    const counted = sameDay || newDayStart ? running : undefined;
    const dayVolume = max(counted, reported);
    // A day figure beyond what was counted: trades nobody streamed (the end of an outage), traded here.
    const unseen =
      running !== undefined && reported !== undefined && sameDay && ts - previous!.ts <= attributionMs
        ? Math.max(0, reported - running)
        : 0;
    return { size: report.size + unseen, ...(dayVolume !== undefined ? { dayVolume } : {}) };
  }
  if (reported === undefined) return before !== undefined ? { dayVolume: before } : {};
  if (before === undefined) return { size: 0, dayVolume: reported };
  const recent = ts - previous!.ts <= attributionMs;
  return { size: recent ? Math.max(0, reported - before) : 0, dayVolume: Math.max(reported, before) };
}

function max(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/**
 * The current session's day bar carries the day's volume as the provider counts it: the
 * minutes before the symbol was first watched, and trades outside regular hours, are in the
 * day total but in no one-minute bar. Bars oldest first; `latest` is the newest tick.
 */
export function withDayVolume<B extends { t: number; v: number }>(
  symbol: string,
  dayBars: readonly B[],
  latest: VolumeState | undefined,
): B[] {
  const last = dayBars.at(-1);
  if (latest?.dayVolume === undefined || !last || volumeDay(symbol, last.t) !== volumeDay(symbol, latest.ts))
    return [...dayBars];
  return [...dayBars.slice(0, -1), { ...last, v: Math.max(last.v, latest.dayVolume) }];
}
