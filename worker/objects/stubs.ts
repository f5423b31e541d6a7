import type { Env } from "../env";

/** The Durable Object of a (normalized) symbol. */
export function tickerStub(env: Env, symbol: string) {
  return env.TICKER.get(env.TICKER.idFromName(symbol));
}

/** The single registry of active symbols. */
export function schedulerStub(env: Env) {
  return env.SCHEDULER.get(env.SCHEDULER.idFromName("feed"));
}
