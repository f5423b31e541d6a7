/** Something with queued output to write in one go. */
export interface Flushable {
  flush(): void;
}

/**
 * Gathers the connections that have queued MESSAGE frames and flushes each once per run.
 * A run happens at the end of the current turn, so everything one delivery brought (a
 * feed round's symbols) leaves as one write per connection and a calm stream waits for
 * nothing. When frames come faster than `spacingMs` (a symbol at 100 ticks/s), a run
 * waits until `spacingMs` after the last one: they share writes, at most one per
 * connection per `spacingMs`, which bounds both the added latency and the sends per
 * second (each send costs the runtime more than the frames in it). A connection holding a
 * conflated MESSAGE back asks to be flushed again at a given time: one timer serves the
 * whole hub, and none is left once nothing is held back, so an idle hub still hibernates.
 */
export class WriteBatcher {
  private readonly dirty = new Set<Flushable>();
  private readonly later = new Map<Flushable, number>();
  private armed = false;
  /** When the last run wrote anything. */
  private lastRun = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(private readonly spacingMs: number) {}

  mark(target: Flushable): void {
    this.dirty.add(target);
    if (this.armed) return;
    this.armed = true;
    const wait = this.lastRun + this.spacingMs - Date.now();
    if (wait <= 0) queueMicrotask(this.run);
    else setTimeout(this.run, wait);
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
    if (targets.length > 0) this.lastRun = Date.now();
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
