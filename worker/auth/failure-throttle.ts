import { TokenError } from "./subscriber-token";

/** Refused because the address failed too often: try again in `retryAfterMs`. */
export class Throttled extends Error {
  constructor(readonly retryAfterMs: number) {
    super("Too many failed attempts");
  }
}

/**
 * Counts failed credential checks per client address in a fixed window; past the limit the
 * address is refused until the window ends, so tokens cannot be guessed at line rate.
 * In memory (per isolate or object): a bound on guessing speed, not an account lockout.
 *
 * With no known address (bare workerd without a proxy setting CF-Connecting-IP, where
 * every client looks the same) a block would shut out everyone, the real publisher too:
 * there a valid credential always passes, and only failed ones are refused once the shared
 * count is over the limit.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
  ) {}

  /**
   * Runs `verify` for a credential from `address`: its result, a TokenError (counted as a
   * failure), or Throttled when the address has failed too often.
   */
  async attempt<T>(address: string, now: number, verify: () => Promise<T>): Promise<T> {
    const known = address !== "";
    if (known) this.check(address, now);
    try {
      return await verify();
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      this.fail(address, now);
      if (!known) this.check(address, now);
      throw err;
    }
  }

  /** Milliseconds until `address` may try again; 0 if it may now. */
  blockedFor(address: string, now: number): number {
    const entry = this.failures.get(address);
    if (!entry || entry.until <= now) return 0;
    return entry.count >= this.limit ? entry.until - now : 0;
  }

  private check(address: string, now: number): void {
    const wait = this.blockedFor(address, now);
    if (wait > 0) throw new Throttled(wait);
  }

  private fail(address: string, now: number): void {
    const entry = this.failures.get(address);
    if (!entry || entry.until <= now) {
      if (this.failures.size >= 10_000) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { count: 1, until: now + this.windowMs });
    } else {
      entry.count++;
    }
  }
}
