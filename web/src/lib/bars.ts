import type { Bar, BarsAnswer } from "../../../client/src/types";
import type { Tick } from "./tick";

export type { Bar };

/** The bars of the answer's newest session, from its open (all of them when it names no session). */
export function sinceOpen(answer: BarsAnswer): Bar[] {
  const open = answer.session?.open ?? 0;
  return answer.bars.filter((b) => b.t >= open);
}

/**
 * Candles of `bucketMs` kept up to date by live ticks (pure): a tick in the last candle's
 * bucket moves it, a later one starts the next. Only ticks in a session count (a closed
 * market's drift makes no candle); a candle's volume grows by each tick's `size`.
 */
export class LiveCandles {
  bars: Bar[] = [];
  /** Ticks up to this position are in the bars already (their sizes count once). */
  #countedSeq = 0;

  readonly #bucketMs: number;

  constructor(bucketMs: number) {
    this.#bucketMs = bucketMs;
  }

  reset(bars: Bar[], countedSeq = 0): void {
    this.bars = bars.map((b) => ({ ...b }));
    this.#countedSeq = countedSeq;
  }

  /** Folds `tick` in: "moved" (the last candle), "added" (a new one), or nothing (outside a session, or older than the last candle). */
  add(tick: Tick): "moved" | "added" | undefined {
    const traded = tick.seq > this.#countedSeq ? (tick.size ?? 0) : 0;
    if (tick.marketState !== "REGULAR" || tick.stale) return undefined;
    const t = Math.floor(tick.ts / this.#bucketMs) * this.#bucketMs;
    const last = this.bars.at(-1);
    if (last && t < last.t) return undefined;
    if (last && t === last.t) {
      last.h = Math.max(last.h, tick.price);
      last.l = Math.min(last.l, tick.price);
      last.c = tick.price;
      last.v += traded;
      last.n += 1;
      return "moved";
    }
    this.bars.push({ t, o: tick.price, h: tick.price, l: tick.price, c: tick.price, v: traded, n: 1 });
    return "added";
  }
}
