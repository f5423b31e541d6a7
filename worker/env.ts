import type { TickerObject } from "./objects/ticker-object";
import type { FeedScheduler } from "./objects/feed-scheduler";

/** Bindings and vars from wrangler.toml, plus secrets from `wrangler secret` / `.dev.vars`. */
export interface Env {
  TICKER: DurableObjectNamespace<TickerObject>;
  SCHEDULER: DurableObjectNamespace<FeedScheduler>;

  /** Comma-separated origins (`https://a.example`, `https://*.example.com`, or `*`). */
  ALLOWED_ORIGINS?: string;
  REQUIRE_ORIGIN?: string;
  TICK_INTERVAL_MS?: string;
  FEED_PROVIDER?: string;
  SIM_SEED?: string;
  MAX_FRAME_BYTES?: string;
  MAX_SUBSCRIPTIONS?: string;
  HEARTBEAT_MS?: string;
  PUBLISH_HOLD_MS?: string;

  /** Secret. Unset means publishing is disabled. */
  PUBLISH_TOKEN?: string;
}
