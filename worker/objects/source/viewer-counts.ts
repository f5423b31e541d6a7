import { buildViewersFrame, type StreamFrame } from "../../broker/stream-frame";

/** Viewer counts go out at most this often. */
const VIEWERS_EVERY_MS = 1_000;

/**
 * A symbol's viewer count as its `/topic/viewers.{SYMBOL}` stream: when the count
 * changes, watchers hear of it at once, or once a second has passed since the last report
 * (a hundred subscribes in a second make one frame). One timer at most.
 */
export class ViewerCounts {
  /** The latest report: the snapshot for a new watcher. */
  frame: StreamFrame;
  private reported: number;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly symbol: string,
    private readonly count: () => number,
    private readonly emit: (frame: StreamFrame) => void,
  ) {
    this.reported = count();
    this.frame = buildViewersFrame(symbol, this.reported, Date.now());
  }

  /** The count may have changed. */
  changed(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const viewers = this.count();
        if (viewers === this.reported) return;
        this.reported = viewers;
        // A viewer frame's seq is its time, which must grow even within a millisecond.
        this.frame = buildViewersFrame(this.symbol, viewers, Math.max(Date.now(), this.frame.seq + 1));
        this.emit(this.frame);
      },
      Math.max(0, this.frame.seq + VIEWERS_EVERY_MS - Date.now()),
    );
  }
}
