/** Refused because the address failed too often: try again in `retryAfterMs`. */
export class Throttled extends Error {
  constructor(readonly retryAfterMs: number) {
    super("Too many failed attempts");
  }
}

/** How long an address was blocked before a failure, and is after it (ms; 0: not). */
export interface Blocked {
  before: number;
  after: number;
}

/**
 * Counts failed credential checks per client address in a fixed window; past the limit the
 * address is blocked until the window ends, so tokens cannot be guessed at line rate. In
 * memory (the shared credential guard object keeps one): a bound on guessing speed, not an
 * account lockout. Bounded: the oldest address is forgotten first. Pure.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Counts a failure of `address`; how long it was blocked before it (0: not) and is now. */
  fail(address: string, now: number): Blocked {
    const before = this.blockedFor(address, now);
    const entry = this.failures.get(address);
    if (!entry || entry.until <= now) {
      this.failures.delete(address);
      if (this.failures.size >= this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { count: 1, until: now + this.windowMs });
    } else {
      entry.count++;
    }
    return { before, after: this.blockedFor(address, now) };
  }

  /** Milliseconds until `address` may try again; 0 if it may now. */
  blockedFor(address: string, now: number): number {
    const entry = this.failures.get(address);
    if (!entry || entry.until <= now) return 0;
    return entry.count >= this.limit ? entry.until - now : 0;
  }
}
