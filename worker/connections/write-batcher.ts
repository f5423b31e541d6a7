/** Something with queued output to write in one go. */
export interface Flushable {
  flush(): void;
}

/**
 * Gathers the connections that have queued MESSAGE frames and flushes each once, after
 * `delayMs` (or at the end of the current turn when 0). Deliveries of many symbols that
 * arrive close together (one feed round) thus leave as one write per connection.
 */
export class WriteBatcher {
  private readonly dirty = new Set<Flushable>();
  private armed = false;

  constructor(private readonly delayMs: number) {}

  mark(target: Flushable): void {
    this.dirty.add(target);
    if (this.armed) return;
    this.armed = true;
    if (this.delayMs === 0) queueMicrotask(this.run);
    else setTimeout(this.run, this.delayMs);
  }

  /** Flushes now (before closing, or when a control frame must not wait). */
  readonly run = (): void => {
    this.armed = false;
    const targets = [...this.dirty];
    this.dirty.clear();
    for (const t of targets) t.flush();
  };
}
