/**
 * A token bucket: `rate` tokens a second, at most `burst` saved up. Tokens may be taken
 * into debt (`charge`), so work whose size is known only afterwards (a rendered frame) is
 * still paid for. Pure: the caller owns time.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Tokens available at `now` (negative while in debt). */
  available(now: number): number {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
      this.at = now;
    }
    return this.tokens;
  }

  /** Takes `n` tokens if there are that many; false (nothing taken) otherwise. */
  take(n: number, now: number): boolean {
    if (this.available(now) < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Takes `n` tokens whether or not they are there (the bucket may go into debt). */
  charge(n: number, now: number): void {
    this.available(now);
    this.tokens -= n;
  }

  /** When at least `n` tokens (at most `burst`) will be available, from `now`. */
  readyAt(n: number, now: number): number {
    const missing = Math.min(n, this.burst) - this.available(now);
    return missing <= 0 ? now : now + Math.ceil((missing / this.rate) * 1000);
  }
}
