/**
 * At most `limit` messages in any `windowMs` (a provider that counts what we send, such as
 * Binance's 5 a second, disconnects past it). A sliding window, not a bucket: a bucket's
 * saved-up burst plus its refill can put twice the limit into one second. Pure.
 */
export class RateWindow {
  private sent: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs = 1_000,
  ) {}

  /** How many more may be sent at `now`. */
  room(now: number): number {
    this.sent = this.sent.filter((t) => t > now - this.windowMs);
    return this.limit - this.sent.length;
  }

  note(count: number, now: number): void {
    for (let i = 0; i < count; i++) this.sent.push(now);
  }

  /** When room opens again (undefined: there is room now). */
  nextAt(now: number): number | undefined {
    return this.room(now) > 0 ? undefined : this.sent[0]! + this.windowMs;
  }
}
