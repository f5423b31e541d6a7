import { readConfig } from "../config";
import type { Env } from "../env";
import { log } from "../log";
import { schedulerShard } from "./stubs";

/** The cron job: every scheduler shard re-arms its pull loop if it lost it. */
export async function sweepSchedulers(env: Env): Promise<void> {
  const shards = readConfig(env).schedulerShards;
  await Promise.all(
    Array.from({ length: shards }, (_, i) =>
      schedulerShard(env, i)
        .sweep()
        .catch((err) => log("sweep_failed", { shard: i, error: String(err) })),
    ),
  );
}
