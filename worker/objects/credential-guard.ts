import { DurableObject } from "cloudflare:workers";
import { type Blocked, FailureThrottle } from "../auth/failure-throttle";
import { SharedThrottle } from "../auth/shared-throttle";
import type { Env } from "../env";
import { entryOf } from "../multimap";
import { guardStub } from "./stubs";

/**
 * Failed credential checks per client address, for the whole service: the worker's HTTP
 * checks and every hub's STOMP CONNECT report here (`guard:{shard}`, by address hash), so
 * guesses add up to one limit however they are spread. Memory only (nothing is stored): an
 * evicted guard forgets its counts, a bound on guessing speed, not an account lockout.
 */
export class CredentialGuard extends DurableObject<Env> {
  private readonly throttle = new FailureThrottle();

  failed(address: string): Blocked {
    return this.throttle.fail(address, Date.now());
  }

  blockedFor(address: string): number {
    return this.throttle.blockedFor(address, Date.now());
  }
}

const throttles = new WeakMap<Env, SharedThrottle>();

/** This isolate's (or object's) side of the shared failure throttle. */
export function credentialThrottle(env: Env): SharedThrottle {
  return entryOf(throttles, env, () => new SharedThrottle((address) => guardStub(env, address)));
}
