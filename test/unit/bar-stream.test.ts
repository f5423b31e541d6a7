/** A symbol's bar streams on a SQLite like its source's: positions, corrections, the delayed stream's order. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StreamFrame } from "../../worker/broker/stream-frame";
import { type Bar, type BarChange, MINUTE_MS } from "../../worker/market/bars";
import { BarStream } from "../../worker/objects/source/bar-stream";
import { deltaEntry, wholeEntry } from "../../worker/protocol/compact/entry";
import { BARS_KIND } from "../../worker/protocol/compact/fields";
import { CompactReader } from "../../worker/protocol/compact/reader";
import { memorySql } from "../support/memory-sql";

const T0 = Date.parse("2026-12-05T10:00:00Z");
const DELAY = 5 * MINUTE_MS;
const bar = (t: number, c: number): Bar => ({ t, o: 1, h: Math.max(1, c), l: 1, c, v: 1, n: 1 });
const body = (f: StreamFrame) => JSON.parse(f.tail.slice(f.tail.indexOf("\n\n") + 2, -1)) as Record<string, unknown>;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

function stream() {
  const live: StreamFrame[] = [];
  const delayed: StreamFrame[] = [];
  const s = new BarStream(memorySql(), "BTC-USD", DELAY, {
    epoch: () => "e",
    closeDue: () => [],
    forming: () => undefined,
    sendLive: (f) => live.push(f),
    sendDelayed: (f) => delayed.push(f),
  });
  s.watch(true, true);
  const change = (c: BarChange) => s.changed(c, Date.now());
  return { s, live, delayed, change };
}

describe("bar streams", () => {
  it("send a correction as a final bar marked `correction`, and snapshots hold each bar's newest revision", () => {
    const { s, live, change } = stream();
    change({ kind: "updated", bar: bar(T0, 2), finalized: [bar(T0 - MINUTE_MS, 1)] });
    vi.advanceTimersByTime(2_000);
    change({ kind: "corrected", bar: bar(T0 - MINUTE_MS, 7) });
    vi.advanceTimersByTime(2_000);
    expect(live.map((f) => [f.seq, body(f).t, body(f).final, body(f).correction])).toEqual([
      [1, T0 - MINUTE_MS, true, undefined],
      [2, T0, false, undefined],
      [3, T0 - MINUTE_MS, true, true],
    ]);
    // A correction is not the newest frame for long: the forming bar follows it again.
    expect(s.snapshot().map((f) => [f.seq, body(f).c, body(f).final])).toEqual([
      [2, 2, false],
      [3, 7, true],
    ]);
    expect(s.newestFinal()).toBe(T0 - MINUTE_MS);
  });

  it("release the delayed stream in order: a correction waits behind a final not yet old enough", () => {
    const { delayed, change } = stream();
    const older = T0 - 10 * MINUTE_MS;
    change({ kind: "updated", bar: bar(T0, 1), finalized: [bar(older, 1)] }); // fseq 1: old enough at once
    vi.advanceTimersByTime(1_000);
    change({ kind: "updated", bar: bar(T0 + MINUTE_MS, 1), finalized: [bar(T0, 2)] }); // fseq 2: due at T0 + 6 min
    vi.advanceTimersByTime(1_000);
    change({ kind: "corrected", bar: bar(older, 9) }); // fseq 3: its bar is old, but it comes after fseq 2
    vi.advanceTimersByTime(1_000);
    expect(delayed.map((f) => [f.seq, body(f).c])).toEqual([[1, 1]]);
    vi.advanceTimersByTime(T0 + MINUTE_MS + DELAY - Date.now());
    expect(delayed.map((f) => [f.seq, body(f).c, body(f).correction])).toEqual([
      [1, 1, undefined],
      [2, 2, undefined],
      [3, 9, true],
    ]);
  });

  it("carry compact deltas from the update before, live and read back from the log, corrections included", () => {
    const { s, live, change } = stream();
    change({ kind: "updated", bar: bar(T0, 2), finalized: [bar(T0 - MINUTE_MS, 1)] });
    for (let i = 1; i <= 3; i++) {
      vi.advanceTimersByTime(1_000);
      change({ kind: "updated", bar: bar(T0, 2 + i), finalized: [] });
    }
    vi.advanceTimersByTime(1_000);
    change({ kind: "corrected", bar: bar(T0 - MINUTE_MS, 7) });
    vi.advanceTimersByTime(2_000);
    change({ kind: "updated", bar: bar(T0 + MINUTE_MS, 4), finalized: [bar(T0, 6)] });
    vi.advanceTimersByTime(2_000);
    const ranged = s.range(0, Number.MAX_SAFE_INTEGER, 100);
    expect(ranged.map((f) => f.seq)).toEqual(live.map((f) => f.seq));
    for (const frames of [live, ranged]) {
      // Every update after the first has its delta; read as a subscriber would, each is the plain body.
      expect(frames.slice(1).every((f) => f.compact?.delta !== undefined)).toBe(true);
      const reader = new CompactReader(BARS_KIND, "BTC-USD");
      const read = frames.map((f, i) =>
        reader.single(i === 0 ? wholeEntry(f.seq, f.epoch, f.compact!.whole) : deltaEntry(f.compact!.delta!)),
      );
      expect(read.map((r) => r.value)).toEqual(frames.map(body));
    }
    expect(live.some((f) => body(f).correction === true)).toBe(true);
  });
});
