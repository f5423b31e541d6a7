import { readConfig } from "./config";
import type { Env } from "./env";
import { app } from "./http/app";
import { log } from "./log";
import { schedulerShard } from "./objects/stubs";

export { SymbolSource } from "./objects/symbol-source";
export { ConnectionHub } from "./objects/connection-hub";
export { FanoutRelay } from "./objects/fanout-relay";
export { FeedScheduler } from "./objects/feed-scheduler";
export { SockJSTestObject } from "./objects/sockjs-test-object";

export default {
  fetch: app.fetch,
  /** Every minute: restart the pull loop of any scheduler shard that lost it. */
  async scheduled(_controller, env, ctx) {
    const shards = readConfig(env).schedulerShards;
    for (let i = 0; i < shards; i++) {
      ctx.waitUntil(schedulerShard(env, i).sweep().catch((err) => log("sweep_failed", { shard: i, error: String(err) })));
    }
  },
} satisfies ExportedHandler<Env>;
