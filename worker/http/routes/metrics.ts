import { Hono } from "hono";
import { bearerCredential } from "../../auth/credentials";
import { tokensMatch } from "../../auth/publish-token";
import { TokenError } from "../../auth/subscriber-token";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { renderExposition } from "../../metrics/exposition";
import type { MetricsSnapshot } from "../../metrics/registry";
import { buildStatus } from "../../metrics/status";
import { throttledCheck, unauthorized } from "../bearer";
import { gather, metricsTargets } from "../metrics-targets";
import { reject } from "../reply";

/**
 * The operator's view (docs/operating.md), behind `Authorization: Bearer` with the
 * read-only METRICS_TOKEN (never the publish token: Prometheus' config and the /status
 * page must not hold a write credential; unset, these routes are off):
 *  - `GET /metrics`: the Prometheus text exposition of every hub and scheduler shard;
 *  - `GET /api/status`: the same figures shaped for the /status page.
 */
export const metricsRoutes = new Hono<{ Bindings: Env }>()
  .use("/metrics", guard)
  .use("/api/status", guard)
  .get("/metrics", async (c) => {
    const { hubs, schedulers, upstreams } = metricsTargets(c.env);
    const reports = await gather<MetricsSnapshot>([...hubs, ...schedulers, ...upstreams]);
    return c.body(renderExposition(reports), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
  })
  .get("/api/status", async (c) => {
    const { hubs, schedulers, upstreams } = metricsTargets(c.env);
    const [hubReports, feedReports, upstreamReports] = await Promise.all([
      gather(hubs),
      gather(schedulers),
      gather(upstreams),
    ]);
    return c.json(buildStatus(hubReports, feedReports, Date.now(), upstreamReports), 200, {
      "cache-control": "no-store",
    });
  });

async function guard(c: { env: Env; req: { raw: Request } }, next: () => Promise<void>): Promise<Response | undefined> {
  if (!readConfig(c.env).metrics) return reject("feature-off", "metrics are off (METRICS=false)");
  const expected = c.env.METRICS_TOKEN;
  if (!expected) return reject("feature-off", "metrics need their own token: set the METRICS_TOKEN secret");
  const auth = c.req.raw.headers.get("Authorization");
  if (!auth) return unauthorized("auth-required", "missing Authorization: Bearer <metrics token>");
  const presented = bearerCredential(auth) ?? "";
  const refused = await throttledCheck(c.env, c.req.raw, presented, Date.now(), async () => {
    if (!(await tokensMatch(presented, expected))) throw new TokenError("not the metrics token");
  });
  if (refused instanceof Response) return refused;
  await next();
}
