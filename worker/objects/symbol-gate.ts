import { type Refusal, refusalOf } from "../broker/refusal";
import { readConfig } from "../config";
import type { Env } from "../env";
import { SymbolGate } from "../market/known-symbols";
import { entryOf } from "../multimap";
import { schedulerFor } from "./stubs";

const gates = new WeakMap<Env, SymbolGate>();

/** This isolate's (or object's) gate: the config, then the symbol's scheduler shard. */
export function symbolGate(env: Env): SymbolGate {
  return entryOf(gates, env, () => {
    const config = readConfig(env);
    const shard = (symbol: string, ask: boolean, hold: boolean) =>
      schedulerFor(env, symbol, config.schedulerShards).admit(symbol, ask, hold);
    return new SymbolGate(config, shard, Date.now);
  });
}

/** `then()` (which may make the symbol's object) when `symbol` is real; the refusal otherwise. `hold`: a viewer subscribes. */
export async function admitted<T>(
  gate: SymbolGate,
  symbol: string,
  then: () => Promise<T>,
  hold = false,
): Promise<T | Refusal> {
  const admission = await gate.admit(symbol, true, hold);
  return "known" in admission ? then() : refusalOf(admission);
}
