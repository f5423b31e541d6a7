import { Hono } from "hono";
import { bearerCredential } from "../../auth/credentials";
import { tokensMatch } from "../../auth/publish-token";
import type { Env } from "../../env";
import { sweepSchedulers } from "../../objects/sweep";
import { reject } from "../reply";

/**
 * `POST /__cron`: runs the cron job where no cron trigger fires (`npm start` on bare
 * workerd). Only with CRON_TRIGGER_TOKEN set, which `npm start` makes up afresh each run
 * and presents as a bearer token; 404 otherwise.
 */
export const cronRoutes = new Hono<{ Bindings: Env }>().post("/__cron", async (c) => {
  const expected = c.env.CRON_TRIGGER_TOKEN;
  if (!expected) return reject("feature-off", "no cron trigger here: Cloudflare runs the cron itself");
  const presented = bearerCredential(c.req.header("Authorization") ?? "") ?? "";
  if (!(await tokensMatch(presented, expected))) return reject("invalid-cron-token", "invalid cron trigger token");
  await sweepSchedulers(c.env);
  return c.json({ swept: true });
});
