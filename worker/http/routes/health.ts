import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import type { FeedStatus } from "../../objects/feed-scheduler";
import { schedulerShard, upstreamStream } from "../../objects/stubs";
import type { StreamStatus } from "../../objects/upstream-stream";
import { checkPublishToken } from "../publish-auth";

/**
 * `GET /healthz`: the feed and how many symbols are active, for anyone. With the publish
 * token (`Authorization: Bearer …`) also which symbols and the feed's status (budget,
 * last round, faults): symbol lists and faults are for operators, not the public.
 */
export const healthRoutes = new Hono<{ Bindings: Env }>().get("/healthz", async (c) => {
  const detailed = c.req.header("Authorization") !== undefined;
  if (detailed) {
    const denied = await checkPublishToken(c.env, c.req.raw);
    if (denied) return denied;
  }
  const config = readConfig(c.env);
  const shards = Array.from({ length: config.schedulerShards }, (_, i) => schedulerShard(c.env, i));
  const [lists, statuses] = await Promise.all([
    Promise.all(shards.map((s) => s.activeSymbols().catch(() => [] as string[]))),
    Promise.all(shards.map((s) => s.status().catch(() => undefined))),
  ]);
  const active = lists.flat().sort();
  const streaming = statuses.some((s) => s?.transport === "stream");
  // The upstream stream (one per deployment): state, fault kind and counts for anyone, the provider's reason for operators.
  const stream = streaming
    ? await upstreamStream(c.env)
        .status()
        .catch(() => undefined)
    : undefined;
  const streams = streaming ? (stream ? [detailed ? stream : publicStream(stream)] : []) : undefined;
  const summary = {
    status: "ok",
    feed: config.feedProvider,
    transport: streaming ? "stream" : "poll",
    tickIntervalMs: config.tickIntervalMs,
    ...(streams ? { streams } : {}),
  };
  const body = detailed
    ? { ...summary, activeSymbols: active, feedStatus: mergeStatus(statuses.filter((s) => s !== undefined)) }
    : { ...summary, activeSymbols: active.length };
  return c.json(body, 200, { "cache-control": "no-store" });
});

/** One view of all scheduler shards: budgets and counts add up, faults are pooled. */
function mergeStatus(shards: FeedStatus[]): FeedStatus | undefined {
  const [first] = shards;
  if (!first) return undefined;
  const rounds = shards.flatMap((s) => (s.lastRound ? [s.lastRound] : []));
  return {
    provider: first.provider,
    requestsPerMinute:
      first.requestsPerMinute === null ? null : shards.reduce((n, s) => n + (s.requestsPerMinute ?? 0), 0),
    roundIntervalMs: first.roundIntervalMs,
    activeSymbols: shards.reduce((n, s) => n + s.activeSymbols, 0),
    lastRound:
      rounds.length === 0
        ? undefined
        : {
            at: Math.max(...rounds.map((r) => r.at)),
            served: rounds.reduce((n, r) => n + r.served, 0),
            requests: rounds.reduce((n, r) => n + r.requests, 0),
            limited: rounds.some((r) => r.limited),
            hubs: rounds.reduce((n, r) => n + r.hubs, 0),
            relays: rounds.reduce((n, r) => n + r.relays, 0),
          },
    faults: Object.assign({}, ...shards.map((s) => s.faults)),
    transport: first.transport,
    streamed: shards.reduce((n, s) => n + s.streamed, 0),
  };
}

/** A stream's state without the provider's wording (which may name the account). */
function publicStream(s: StreamStatus): Omit<StreamStatus, "fault"> & { fault?: string } {
  const { fault, ...rest } = s;
  return fault ? { ...rest, fault: fault.kind } : rest;
}
