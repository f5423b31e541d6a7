import type { Config } from "../config";
import type { FeedProvider } from "./provider";
import { SimulatorFeed } from "./simulator";

/** The feed named by FEED_PROVIDER. Only the simulator ships today; an unknown name fails loudly. */
export function createFeed(config: Config): FeedProvider {
  switch (config.feedProvider) {
    case "sim":
      return new SimulatorFeed(config.simSeed, config.tickIntervalMs);
    default:
      throw new Error(`config FEED_PROVIDER="${config.feedProvider}" is not a known provider (available: sim)`);
  }
}
