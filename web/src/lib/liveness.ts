/**
 * Notices a connection that went silent: each heart-beat we send is echoed by the server
 * (or overtaken by other frames); when nothing at all arrives within `graceMs` of one,
 * the server or the path to it is gone, though the socket still looks open (a process
 * frozen, a network dropped without a reset). Anchored on our own beats, so a throttled
 * background tab (late timers) is never mistaken for a dead link.
 */
export class LivenessWatch {
  private answered = true;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly graceMs: number,
    private readonly onSilent: () => void,
  ) {}

  /** Something arrived from the server. */
  heard(): void {
    this.answered = true;
  }

  /** We sent a heart-beat: something must arrive within the grace period. */
  beat(): void {
    this.answered = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.answered) this.onSilent();
    }, this.graceMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.answered = true;
  }
}
