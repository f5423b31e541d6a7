import { buildDelayedFrame, type StreamFrame } from "../../broker/stream-frame";
import type { Unavailable } from "../../feeds/unavailable";
import { type DelayedTick, isReleased, markDelayed } from "../../market/delay";
import type { Tick } from "../../market/tick";
import type { StoredTick } from "./history";
import type { StreamBehaviour } from "./streams";

/** What the delayed stream reads of the symbol's history. */
export interface DelayedHistory {
  between(after: number, before: number, limit: number): StoredTick[];
  arrivedBy(at: number, limit: number): Tick[];
}

/** Ticks read from history per step of releasing. */
const RELEASE_BATCH = 256;

type State =
  /** No delayed subscriber: nothing released, no timer. */
  | { kind: "stopped" }
  /** Releasing: the last seq released and its frame (the snapshot); a timer while the next tick is not yet due. */
  | {
      kind: "running";
      seq: number;
      frame: StreamFrame | undefined;
      /** The last tick released (the base of the next frame's compact delta). */
      tick: Tick | undefined;
      timer: ReturnType<typeof setTimeout> | undefined;
    };

/**
 * The delayed stream of a symbol, for connections without a real-time entitlement: the
 * same ticks, each released once it arrived at least `delayMs` ago, in order, marked
 * delayed. Built from the history, so nothing is held per subscriber, one timer serves the
 * symbol, and an evicted source picks up where the clock says. While the timer is set
 * nothing else is due: released in order, every later tick waits behind the one it waits for.
 */
export class DelayedStream {
  private state: State = { kind: "stopped" };

  constructor(
    private readonly history: DelayedHistory,
    private readonly delayMs: number,
    private readonly epoch: () => string,
    private readonly emit: (frame: StreamFrame) => void,
  ) {}

  /** The newest released tick's frame: a new subscriber's snapshot. */
  get snapshot(): StreamFrame | undefined {
    return this.state.kind === "running" ? this.state.frame : undefined;
  }

  /** The last seq released, for /healthz. */
  get releasedSeq(): number | null {
    return this.state.kind === "running" ? this.state.seq : null;
  }

  /**
   * Emits every tick that has become old enough, in order, and sets one timer for the next.
   * Started (the first delayed subscriber, or after a wake) from the newest tick old enough.
   */
  release(now = Date.now()): void {
    if (this.state.kind === "stopped") {
      const [newest] = this.history.arrivedBy(now - this.delayMs, 1);
      this.state = {
        kind: "running",
        seq: newest?.seq ?? 0,
        frame: newest && this.frameOf(newest),
        tick: newest,
        timer: undefined,
      };
    }
    const state = this.state;
    if (state.timer !== undefined) return;
    for (;;) {
      const rows = this.history.between(state.seq, Number.MAX_SAFE_INTEGER, RELEASE_BATCH);
      for (const { tick, arrived } of rows) {
        if (!isReleased(arrived, this.delayMs, now)) {
          state.timer = setTimeout(
            () => {
              state.timer = undefined;
              if (this.state === state) this.release();
            },
            arrived + this.delayMs - now,
          );
          return;
        }
        state.seq = tick.seq;
        state.frame = this.frameOf(tick, state.tick);
        state.tick = tick;
        this.emit(state.frame);
      }
      if (rows.length < RELEASE_BATCH) return;
    }
  }

  /** The frames of `rows` (oldest first) the public may see at `now`: up to the first not yet old enough. */
  framesOf(rows: readonly StoredTick[], now = Date.now()): StreamFrame[] {
    const due = rows.findIndex((r) => !isReleased(r.arrived, this.delayMs, now));
    return rows.slice(0, due < 0 ? rows.length : due).map((r, i) => this.frameOf(r.tick, rows[i - 1]?.tick));
  }

  /** The newest `limit` ticks the public may see at `now`, newest first, marked delayed. */
  newest(limit: number, now = Date.now()): DelayedTick[] {
    return this.history.arrivedBy(now - this.delayMs, limit).map((t) => markDelayed(t, this.delayMs));
  }

  /** Nobody left to release to: a later subscriber starts afresh from the clock. */
  stop(): void {
    if (this.state.kind === "running" && this.state.timer !== undefined) clearTimeout(this.state.timer);
    this.state = { kind: "stopped" };
  }

  private frameOf(tick: Tick, previous?: Tick): StreamFrame {
    return buildDelayedFrame(tick, this.epoch(), this.delayMs, previous);
  }
}

/** Why a public (delayed) read has nothing yet: no tick is `delayMs` old. */
export function notYetReleased(symbol: string, delayMs: number): Unavailable {
  return {
    unavailable: "busy",
    reason: `no price of ${symbol} is ${delayMs / 1000} s old yet (prices are delayed for the public)`,
    retryAfterMs: delayMs,
  };
}

/** The delayed tick stream's behaviour in its source: what is due is released first (`release`), and it stops with its last holder. */
export function delayedBehaviour(
  delayed: DelayedStream,
  history: DelayedHistory,
  release: () => void,
): StreamBehaviour {
  return {
    snapshot: () => {
      release();
      return delayed.snapshot;
    },
    range: (after, before, limit) => delayed.framesOf(history.between(after, before, limit)),
    held: (holders) => {
      if (holders.size === 0) delayed.stop();
    },
  };
}
