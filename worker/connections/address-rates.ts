import { TokenBucket } from "./token-bucket";

/**
 * A request rate per client address: a token bucket each (`rate` a second, `burst` saved
 * up), for the most recently seen `maxAddresses` (an address forgotten starts full again).
 * Pure: the caller owns time.
 */
export class AddressRates {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Takes one request for `address`: 0 when it may go now, else how many ms until it may. */
  take(address: string, now: number): number {
    let bucket = this.buckets.get(address);
    if (bucket) {
      this.buckets.delete(address);
    } else {
      if (this.buckets.size >= this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = new TokenBucket(this.rate, this.burst, now);
    }
    this.buckets.set(address, bucket);
    return bucket.take(1, now) ? 0 : Math.max(1, bucket.readyAt(1, now) - now);
  }
}
