import { readConfig } from "../config";
import type { Env } from "../env";
import { streamsPrices } from "../feeds";
import type { ObjectReport } from "../metrics/exposition";
import type { MetricsSnapshot } from "../metrics/registry";
import type { FeedSnapshot, HubSnapshot } from "../metrics/status";
import { hubStub, schedulerShard, upstreamStream } from "../objects/stubs";
import { hubName, REGIONS } from "../routing/placement";

/** How long one object may take to answer a scrape before it is reported down. */
export const OBJECT_TIMEOUT_MS = 2_000;

/** One object a scrape asks: its name, what it is, and how to ask it. */
export interface Target<S extends MetricsSnapshot = MetricsSnapshot> {
  object: string;
  kind: string;
  read(): Promise<S | undefined>;
}

/**
 * The objects a scrape gathers: every hub of every region and shard, every scheduler
 * shard, and each shard's upstream stream object (kind `stream`; none on a polling feed).
 */
export function metricsTargets(env: Env): {
  hubs: Target<HubSnapshot>[];
  schedulers: Target<FeedSnapshot>[];
  upstreams: Target[];
} {
  const config = readConfig(env);
  const hubs = REGIONS.flatMap((region) =>
    Array.from({ length: config.hubShards }, (_, shard) => {
      const name = hubName(region, shard);
      return {
        object: name,
        kind: "hub",
        read: async () => (await hubStub(env, name).metrics()) as HubSnapshot | undefined,
      };
    }),
  );
  const schedulers = Array.from({ length: config.schedulerShards }, (_, shard) => ({
    object: `feed:${shard}`,
    kind: "scheduler",
    read: async () => (await schedulerShard(env, shard).metrics()) as FeedSnapshot | undefined,
  }));
  // The deployment's one upstream stream, when prices stream (FEED_TRANSPORT).
  const upstreams: Target[] = streamsPrices(config)
    ? [
        {
          object: "stream:0",
          kind: "stream",
          read: async () => (await upstreamStream(env).metrics()) as MetricsSnapshot | undefined,
        },
      ]
    : [];
  return { hubs, schedulers, upstreams };
}

/** Asks every target at once, each within OBJECT_TIMEOUT_MS; one that fails or is late is reported without figures. */
export async function gather<S extends MetricsSnapshot>(
  targets: ReadonlyArray<Target<S>>,
): Promise<Array<ObjectReport & { snapshot?: S }>> {
  return Promise.all(
    targets.map(async ({ object, kind, read }) => {
      let timer: ReturnType<typeof setTimeout> | number | undefined;
      const late = new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`no answer within ${OBJECT_TIMEOUT_MS} ms`)), OBJECT_TIMEOUT_MS)),
      );
      try {
        const snapshot = await Promise.race([read(), late]);
        return snapshot ? { object, kind, snapshot } : { object, kind, error: "metrics are off" };
      } catch (err) {
        return { object, kind, error: String(err instanceof Error ? err.message : err).slice(0, 200) };
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    }),
  );
}
