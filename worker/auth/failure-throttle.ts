/**
 * Counts failed credential checks per client address in a fixed window; past the limit the
 * address is refused until the window ends, so tokens cannot be guessed at line rate.
 * In memory (per isolate or object): a bound on guessing speed, not an account lockout.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** Milliseconds until `address` may try again; 0 if it may now. */
  blockedFor(address: string, now: number): number {
    const entry = this.failures.get(address);
    if (!entry || entry.until <= now) return 0;
    return entry.count >= this.limit ? entry.until - now : 0;
  }

  fail(address: string, now: number): void {
    const entry = this.failures.get(address);
    if (!entry || entry.until <= now) {
      if (this.failures.size >= 10_000) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { count: 1, until: now + this.windowMs });
    } else {
      entry.count++;
    }
  }
}
