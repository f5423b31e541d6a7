import { Hono } from "hono";
import type { Env } from "../env";
import { log } from "../log";
import { compressAsset } from "./compress";
import { apiPreflight } from "./cors";
import { apiRateLimit } from "./rate-limit";
import { reject } from "./reply";
import { barsRoutes } from "./routes/bars";
import { cronRoutes } from "./routes/cron";
import { embedRoutes } from "./routes/embed";
import { healthRoutes } from "./routes/health";
import { historyRoutes } from "./routes/history";
import { metricsRoutes } from "./routes/metrics";
import { quoteRoutes } from "./routes/quotes";
import { sockjsRoutes } from "./routes/sockjs";
import { streamRoutes } from "./routes/stream";
import { symbolRoutes } from "./routes/symbols";
import { testHookRoutes } from "./routes/test-hooks";
import { tickRoutes } from "./routes/ticks";
import { viewerRoutes } from "./routes/viewers";

export const app = new Hono<{ Bindings: Env }>()
  .use("/api/quotes", apiRateLimit)
  .use("/api/history/*", apiRateLimit)
  .use("/api/bars/*", apiRateLimit)
  .use("/api/viewers", apiRateLimit)
  .use("/api/symbols", apiRateLimit)
  .route("/", streamRoutes)
  .route("/", sockjsRoutes)
  .route("/", tickRoutes)
  .route("/", quoteRoutes)
  .route("/", historyRoutes)
  .route("/", barsRoutes)
  .route("/", viewerRoutes)
  .route("/", symbolRoutes)
  .route("/", embedRoutes)
  .route("/", healthRoutes)
  .route("/", metricsRoutes)
  .route("/", testHookRoutes)
  .route("/", cronRoutes)
  .options("/api/*", apiPreflight)
  .notFound(async (c) => {
    // `npm start` serves the static files behind the worker (on Cloudflare they are served before it).
    const asset = await c.env.ASSETS?.fetch(c.req.raw);
    if (asset && asset.status !== 404) return compressAsset(c.req.raw, asset);
    return reject("no-route", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
  })
  .onError((err) => {
    log("request_failed", { error: String(err), stack: err instanceof Error ? err.stack : undefined });
    return reject("internal", "internal error");
  });
