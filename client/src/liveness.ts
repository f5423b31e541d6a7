/** Grace bounds: never less than the base (a quick link), never more than this (a link this slow is as good as gone). */
const MAX_GRACE_MS = 15_000;

/**
 * Notices a connection that went silent: each heart-beat we send is echoed by the server
 * (or overtaken by other frames); when nothing at all arrives within the grace period of
 * one, the server or the path to it is gone, though the socket still looks open (a process
 * frozen, a network dropped without a reset). Anchored on our own beats, so a throttled
 * background tab (late timers) is never mistaken for a dead link. The grace grows with the
 * round trips measured from beat to echo (smoothed as TCP does, mean plus four deviations),
 * so a slow link is not dropped for being slow. Pure but for its timer.
 */
export class LivenessWatch {
  #answered = true;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the beat still waiting for its echo went out. */
  #sentAt: number | undefined;
  #srtt: number | undefined;
  #rttvar = 0;

  readonly #baseGraceMs: number;
  readonly #onSilent: () => void;
  readonly #now: () => number;
  constructor(baseGraceMs: number, onSilent: () => void, now: () => number = Date.now) {
    this.#baseGraceMs = baseGraceMs;
    this.#onSilent = onSilent;
    this.#now = now;
  }

  /** How long after a beat silence means the link is gone. */
  get graceMs(): number {
    if (this.#srtt === undefined) return this.#baseGraceMs;
    return Math.min(MAX_GRACE_MS, Math.max(this.#baseGraceMs, Math.round(this.#srtt + 4 * this.#rttvar)));
  }

  /** The smoothed round trip of a heart-beat, once one was measured. */
  get roundTripMs(): number | undefined {
    return this.#srtt;
  }

  /** Something arrived from the server. */
  heard(): void {
    this.#answered = true;
  }

  /** A heart-beat arrived (the echo of ours): the link is alive, and the round trip is measured. */
  echo(): void {
    this.#answered = true;
    if (this.#sentAt === undefined) return;
    const rtt = this.#now() - this.#sentAt;
    this.#sentAt = undefined;
    if (this.#srtt === undefined) {
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rtt);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rtt;
    }
  }

  /**
   * We sent a heart-beat: something must arrive within the grace period. A beat sent while
   * an earlier one is still unanswered keeps the earlier deadline (beats may come faster
   * than the grace: silence must not push its own deadline back).
   */
  beat(): void {
    if (!this.#answered) return;
    this.#answered = false;
    this.#sentAt = this.#now();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (!this.#answered) this.#onSilent();
    }, this.graceMs);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#answered = true;
    this.#sentAt = undefined;
  }
}
