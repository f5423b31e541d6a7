import type { AttachAnswer, Sources } from "../../broker/hub-ports";
import type { Env } from "../../env";
import { sourceStub } from "../stubs";
import { admitted, symbolGate } from "../symbol-gate";

/** The symbol sources as a hub's broker reaches them: RPC to each symbol's object, naming the hub. */
export function symbolSources(env: Env, hub: () => string): Sources {
  return {
    // Only a real symbol gets an object (a refusal otherwise, which the broker turns into an ERROR).
    attach: (stream, count, by) =>
      admitted<AttachAnswer>(
        symbolGate(env),
        stream.symbol,
        () => sourceStub(env, stream.symbol).attach(hub(), count, stream.kind, by),
        true,
      ),
    interest: (stream, count) => sourceStub(env, stream.symbol).interest(hub(), count, stream.kind),
    range: (stream, after, before, limit) => sourceStub(env, stream.symbol).range(after, before, limit, stream.kind),
    publish: async (quote) => void (await sourceStub(env, quote.symbol).publishQuotes([quote])),
  };
}
