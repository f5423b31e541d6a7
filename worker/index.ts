import type { Env } from "./env";
import { app } from "./http/app";
import { log } from "./log";

export { TickerObject } from "./objects/ticker-object";
export { FeedScheduler } from "./objects/feed-scheduler";

export default {
  fetch: app.fetch,
  /** Every minute: restart the alarm loop of any active symbol that lost it. */
  async scheduled(_controller, env, ctx) {
    const scheduler = env.SCHEDULER.get(env.SCHEDULER.idFromName("feed"));
    ctx.waitUntil(scheduler.sweep().catch((err) => log("sweep_failed", { error: String(err) })));
  },
} satisfies ExportedHandler<Env>;
