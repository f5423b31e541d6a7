import type { Env } from "./env";
import { app } from "./http/app";
import { log } from "./log";
import { schedulerStub } from "./objects/stubs";

export { TickerObject } from "./objects/ticker-object";
export { FeedScheduler } from "./objects/feed-scheduler";
export { SockJSTestObject } from "./objects/sockjs-test-object";

export default {
  fetch: app.fetch,
  /** Every minute: restart the alarm loop of any active symbol that lost it. */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(schedulerStub(env).sweep().catch((err) => log("sweep_failed", { error: String(err) })));
  },
} satisfies ExportedHandler<Env>;
