import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { relayStub, sourceStub } from "../../objects/stubs";
import { reject } from "../reply";

/**
 * Test only (TEST_HOOKS=true): force a source or relay out of memory as an eviction would
 * (hubs are evicted for real by hibernation: aborting one would drop its sockets), and
 * read a source's stream and fan-out state. 404 otherwise.
 */
export const testHookRoutes = new Hono<{ Bindings: Env }>()
  .use("/__test/*", async (c, next) => {
    if (!readConfig(c.env).testHooks) return reject("feature-off", "test hooks are off (TEST_HOOKS=true enables them)");
    await next();
  })
  .post("/__test/evict/:kind/:name", async (c) => {
    const name = c.req.param("name");
    const kind = c.req.param("kind");
    const stub = kind === "source" ? sourceStub(c.env, name) : kind === "relay" ? relayStub(c.env, name) : undefined;
    if (!stub) return reject("invalid-parameter", "kind is source or relay");
    // abort() fails the call that made it: that failure is the expected answer.
    await stub.evict().catch(() => undefined);
    return c.json({ evicted: `${kind}:${name}` });
  })
  .get("/__test/source/:symbol", async (c) => c.json(await sourceStub(c.env, c.req.param("symbol")).status()));
