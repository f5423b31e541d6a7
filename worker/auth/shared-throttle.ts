import { type Blocked, Throttled } from "./failure-throttle";
import { TokenError } from "./subscriber-token";

/** The one place failures are counted (a credential guard object, sharded by address). */
export interface GuardPort {
  /** Counts a failure of `address`; how long it was blocked before it and is now. */
  failed(address: string): Promise<Blocked>;
  /** How long `address` is blocked (0: not). */
  blockedFor(address: string): Promise<number>;
}

export interface SharedThrottleOptions {
  /** Most (address, credential) passes and blocked addresses remembered locally. */
  maxEntries: number;
  /** How long a credential that passed from an address passes again without asking. */
  passTtlMs: number;
}

const OPTIONS: SharedThrottleOptions = { maxEntries: 1_000, passTtlMs: 600_000 };

/**
 * Every credential check (HTTP bearer tokens, /metrics, each hub's STOMP CONNECT) counts
 * its failures in one place, so guesses spread over the worker and the hubs add up to one
 * limit per address. What a check costs: a failure asks the guard (one call, which counts
 * it); a success asks it only the first time that credential passes from that address
 * (then remembered here for a while: whoever holds a valid credential learns nothing by
 * retrying it), so a publisher posting every second asks once. While an address is blocked
 * every answer is Throttled, success or not: the answer tells a guesser nothing.
 *
 * With no known address (bare workerd without a trusted proxy: every client looks alike) a
 * valid credential always passes, so a stranger cannot lock out the publisher; failures are
 * still counted together and answered Throttled past the limit.
 */
export class SharedThrottle {
  private readonly passed = new Map<string, number>();
  private readonly blocked = new Map<string, number>();

  constructor(
    private readonly guard: (address: string) => GuardPort,
    private readonly options: SharedThrottleOptions = OPTIONS,
  ) {}

  /** Runs `verify` for `credential` from `address`: its result, a TokenError, or Throttled. */
  async attempt<T>(address: string, credential: string, now: number, verify: () => Promise<T>): Promise<T> {
    const known = address !== "";
    const blockedUntil = this.blocked.get(address) ?? 0;
    if (known && blockedUntil > now) throw new Throttled(blockedUntil - now);
    let result: T;
    try {
      result = await verify();
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      const { before, after } = await this.guard(address).failed(address);
      // A known address gets its limit's worth of answers, then Throttled; failures from
      // unknown addresses, counted together, are Throttled as soon as they reach it.
      if (known && after > 0) remember(this.blocked, address, now + after, this.options.maxEntries);
      this.refuseIfBlocked(address, known ? before : after, now);
      throw err;
    }
    if (!known) return result;
    const key = `${address} ${await digest(credential)}`;
    if ((this.passed.get(key) ?? 0) > now) return result;
    this.refuseIfBlocked(address, await this.guard(address).blockedFor(address), now);
    remember(this.passed, key, now + this.options.passTtlMs, this.options.maxEntries);
    return result;
  }

  private refuseIfBlocked(address: string, wait: number, now: number): void {
    if (wait <= 0) return;
    remember(this.blocked, address, now + wait, this.options.maxEntries);
    throw new Throttled(wait);
  }
}

function remember(map: Map<string, number>, key: string, until: number, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, until);
}

const utf8 = new TextEncoder();

async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(text)));
  return Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}
