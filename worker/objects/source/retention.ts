/**
 * How long a symbol's stored state outlives its last use (SYMBOL_RETENTION_MS, 30 days):
 * each use pushes the source's alarm out, re-arming it at most once per 1/30 of the period
 * (arming is a storage write: not on every tick), so the state goes between one period and
 * 31/30 of it after the last use. The alarm then deletes it unless a hub still holds one
 * of the symbol's streams. Pure: `arm` sets the alarm, and the source deletes.
 */
export class Retention {
  /** When the alarm is set for, as far as this instance knows (0: not known, set on first use). */
  private armedFor = 0;

  constructor(
    private readonly retentionMs: number,
    private readonly arm: (at: number) => void = () => {},
  ) {}

  private get slackMs(): number {
    return Math.ceil(this.retentionMs / 30);
  }

  /** A use at `now`: arms the alarm when the one set is too early; returns the time it set, if it did. */
  used(now = Date.now()): number | undefined {
    if (this.armedFor >= now + this.retentionMs) return undefined;
    this.armedFor = now + this.retentionMs + this.slackMs;
    this.arm(this.armedFor);
    return this.armedFor;
  }

  /** The alarm fired at `now`: delete the state, or keep it (`active`: a hub holds a stream) and re-arm. */
  due(now: number, active: boolean): { delete: true } | { rearmAt: number } {
    this.armedFor = 0;
    if (!active) return { delete: true };
    return { rearmAt: this.used(now)! };
  }
}
