import type { Env } from "../env";
import { regionOfHub, shardOf } from "../routing/placement";

/** Stubs of every object, addressed by name (the generated Env types each namespace by its class). */

export function sourceStub(env: Env, symbol: string) {
  return env.SOURCE.get(env.SOURCE.idFromName(symbol));
}

/** A hub, created in its region (the location hint matters only on first use). */
export function hubStub(env: Env, name: string) {
  const locationHint = regionOfHub(name);
  return env.HUB.get(env.HUB.idFromName(name), locationHint ? { locationHint } : {});
}

export function relayStub(env: Env, name: string) {
  return env.RELAY.get(env.RELAY.idFromName(name));
}

/** The feed-scheduler shard a symbol belongs to. */
export function schedulerFor(env: Env, symbol: string, shards: number) {
  return schedulerShard(env, shardOf(symbol, shards));
}

export function schedulerShard(env: Env, shard: number) {
  return env.SCHEDULER.get(env.SCHEDULER.idFromName(`feed:${shard}`));
}

export function sockjsTestStub(env: Env, service: string) {
  return env.SOCKJS_TEST.get(env.SOCKJS_TEST.idFromName(service));
}

/** The shard number in a scheduler's name (`feed:N`); 0 when unnamed. */
export function shardNumber(name: string | undefined): number {
  return Number(name?.split(":")[1] ?? 0);
}

/**
 * The deployment's one upstream stream (`stream:0`): providers allow one connection per key,
 * so every scheduler shard shares it, whatever SCHEDULER_SHARDS is.
 */
export function upstreamStream(env: Env) {
  return env.STREAM.get(env.STREAM.idFromName("stream:0"));
}

/** The upstream stream as one scheduler shard talks to it: about its own symbols. */
export function upstreamFor(env: Env, shard: number) {
  const upstream = upstreamStream(env);
  return {
    follow: (symbols: string[]) => upstream.follow(shard, symbols),
    streamed: () => upstream.streamed(shard),
  };
}

/** Credential guards: failed checks are counted per address in one of these, by address hash. */
const GUARD_SHARDS = 8;

export function guardStub(env: Env, address: string) {
  return env.GUARD.get(env.GUARD.idFromName(`guard:${shardOf(address, GUARD_SHARDS)}`));
}
