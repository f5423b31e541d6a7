import { Hono } from "hono";
import { readConfig } from "../config";
import type { Env } from "../env";
import { log } from "../log";
import { schedulerStub } from "../objects/stubs";
import { reject } from "./reply";
import { embedRoutes } from "./routes/embed";
import { historyRoutes } from "./routes/history";
import { quoteRoutes } from "./routes/quotes";
import { sockjsRoutes } from "./routes/sockjs";
import { streamRoutes } from "./routes/stream";
import { tickRoutes } from "./routes/ticks";

export const app = new Hono<{ Bindings: Env }>()
  .route("/", streamRoutes)
  .route("/", sockjsRoutes)
  .route("/", tickRoutes)
  .route("/", quoteRoutes)
  .route("/", historyRoutes)
  .route("/", embedRoutes)
  .get("/healthz", async (c) => {
    const config = readConfig(c.env);
    const scheduler = schedulerStub(c.env);
    const [active, feedStatus] = await Promise.all([
      scheduler.activeSymbols().catch(() => undefined),
      scheduler.status().catch(() => undefined),
    ]);
    return c.json(
      { status: "ok", feed: config.feedProvider, tickIntervalMs: config.tickIntervalMs, activeSymbols: active, feedStatus },
      200,
      { "cache-control": "no-store" },
    );
  })
  .notFound((c) => reject(404, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`))
  .onError((err) => {
    log("request_failed", { error: String(err), stack: err instanceof Error ? err.stack : undefined });
    return reject(500, "internal error");
  });
