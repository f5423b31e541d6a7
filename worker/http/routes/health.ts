import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { mergeStatus } from "../../objects/scheduler/status";
import { schedulerShard, upstreamStream } from "../../objects/stubs";
import type { StreamStatus } from "../../objects/upstream-stream";
import { checkOperator } from "../publish-auth";

/**
 * `GET /healthz`: the feed and how many symbols are active, for anyone. With the metrics
 * token or a publishing credential (`Authorization: Bearer …`) also which symbols and the
 * feed's status (budget, last round, the newest faults of each kind and counts by kind):
 * symbol lists and faults are for operators, not the public.
 */
export const healthRoutes = new Hono<{ Bindings: Env }>().get("/healthz", async (c) => {
  const detailed = c.req.header("Authorization") !== undefined;
  if (detailed) {
    const denied = await checkOperator(c.env, c.req.raw);
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

/** A stream's state without the provider's wording (which may name the account). */
function publicStream(s: StreamStatus): Omit<StreamStatus, "fault"> & { fault?: string } {
  const { fault, ...rest } = s;
  return fault ? { ...rest, fault: fault.kind } : rest;
}
