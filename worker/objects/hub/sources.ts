import type { Sources } from "../../broker/hub-ports";
import type { Env } from "../../env";
import { sourceStub } from "../stubs";

/** The symbol sources as a hub's broker reaches them: RPC to each symbol's object, naming the hub. */
export function symbolSources(env: Env, hub: () => string): Sources {
  return {
    attach: (stream, count) => sourceStub(env, stream.symbol).attach(hub(), count, stream.kind),
    interest: (stream, count) => sourceStub(env, stream.symbol).interest(hub(), count, stream.kind),
    range: (stream, after, before, limit) => sourceStub(env, stream.symbol).range(after, before, limit, stream.kind),
    publish: async (quote) => void (await sourceStub(env, quote.symbol).publishQuotes([quote])),
  };
}
