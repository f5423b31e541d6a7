import type { Env } from "./env";
import { app } from "./http/app";
import { sweepSchedulers } from "./objects/sweep";

export { ConnectionHub } from "./objects/connection-hub";
export { CredentialGuard } from "./objects/credential-guard";
export { FanoutRelay } from "./objects/fanout-relay";
export { FeedScheduler } from "./objects/feed-scheduler";
export { SockJSTestObject } from "./objects/sockjs-test-object";
export { SymbolSource } from "./objects/symbol-source";
export { UpstreamStream } from "./objects/upstream-stream";

export default {
  fetch: app.fetch,
  /** Every minute: restart the pull loop of any scheduler shard that lost it. */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepSchedulers(env));
  },
} satisfies ExportedHandler<Env>;
