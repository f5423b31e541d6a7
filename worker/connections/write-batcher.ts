/** Something with queued output to write in one go. */
export interface Flushable {
  flush(): void;
}

/**
 * Gathers the connections that have queued MESSAGE frames and flushes each once, after
 * `delayMs` (or at the end of the current turn when 0). Deliveries of many symbols that
 * arrive close together (one feed round) thus leave as one write per connection. A
 * connection holding a conflated MESSAGE back asks to be flushed again at a given time:
 * one timer serves the whole hub, and none is left once nothing is held back, so an
 * idle hub still hibernates.
 */
export class WriteBatcher {
  private readonly dirty = new Set<Flushable>();
  private readonly later = new Map<Flushable, number>();
  private armed = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly delayMs: number) {}

  mark(target: Flushable): void {
    this.dirty.add(target);
    if (this.armed) return;
    this.armed = true;
    if (this.delayMs === 0) queueMicrotask(this.run);
    else setTimeout(this.run, this.delayMs);
  }

  /** Flushes `target` again at `at` (epoch ms), unless it asks for an earlier time. */
  markAt(target: Flushable, at: number): void {
    const known = this.later.get(target);
    if (known !== undefined && known <= at) return;
    this.later.set(target, at);
    if (at >= this.timerAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.runLater, Math.max(0, at - Date.now()));
  }

  /** Flushes now (before closing, or when a control frame must not wait). */
  readonly run = (): void => {
    this.armed = false;
    const targets = [...this.dirty];
    this.dirty.clear();
    for (const t of targets) t.flush();
  };

  private readonly runLater = (): void => {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const due = [...this.later].filter(([, at]) => at <= now).map(([t]) => t);
    for (const t of due) this.later.delete(t);
    const next = Math.min(...this.later.values());
    for (const t of due) t.flush();
    // Targets not yet due (and any that re-marked themselves) keep one timer.
    if (Number.isFinite(next) && next < this.timerAt) {
      this.timerAt = next;
      this.timer = setTimeout(this.runLater, Math.max(0, next - Date.now()));
    }
  };
}
