/**
 * `npm start` on a fresh clone, as a self-hoster runs it: it makes up its own secrets on
 * the first run (in .start.vars, and says so), so the published example ones never work:
 * not `dev-publish-token`, not a token signed with the example's AUTH_JWT_SECRET, not the
 * example's metrics token. /metrics takes its own read-only token, never the publish token.
 * Given the example values anyway, it refuses to start.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/dev-server";
import { freshClone, type Running, runNpm } from "../support/fresh-clone";
import { postTicks } from "../support/publish";
import { signToken } from "../support/tokens";

const EXAMPLE = { publish: "dev-publish-token", jwt: "dev-subscriber-secret-change-me", metrics: "dev-metrics-token" };

describe("npm start on a fresh clone", () => {
  const clone = freshClone();
  let server: Running;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = runNpm(clone.dir, ["start", "--", "--port", String(port), "--persist-to", join(clone.dir, "state")]);
    await server.waitForLog(/Ready on http:\/\/127\.0\.0\.1:\d+/, 90_000);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    clone.remove();
  });

  it("makes up its own secrets and says where they are", () => {
    expect(server.logs()).toMatch(/Generated random PUBLISH_TOKEN, AUTH_JWT_SECRET, METRICS_TOKEN in \S*\.start\.vars/);
    const vars = readFileSync(join(clone.dir, ".start.vars"), "utf8");
    for (const value of Object.values(EXAMPLE)) expect(vars).not.toContain(value);
    expect(vars).toMatch(/^PUBLISH_TOKEN=[A-Za-z0-9_-]{43}$/m);
  });

  it("never accepts the example's publish token, a token signed with its secret, or its metrics token", async () => {
    const published = await postTicks(url, { symbol: "AAPL", price: 1.23 }, EXAMPLE.publish);
    expect(published.status).toBe(401);
    const forged = await signToken({ sub: "mallory", pub: true, rt: true }, { secret: EXAMPLE.jwt });
    expect((await postTicks(url, { symbol: "AAPL", price: 1.23 }, forged)).status).toBe(401);
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${EXAMPLE.metrics}` } });
    expect(metrics.status).toBe(401);
  });

  it("accepts its own: the publish token publishes, the metrics token reads /metrics, and neither does the other's job", async () => {
    const vars = Object.fromEntries(
      readFileSync(join(clone.dir, ".start.vars"), "utf8")
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect((await postTicks(url, { symbol: "AAPL", price: 231.5 }, vars.PUBLISH_TOKEN!)).status).toBe(200);
    const read = (token: string) => fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect((await read(vars.METRICS_TOKEN!)).status).toBe(200);
    expect((await read(vars.PUBLISH_TOKEN!)).status).toBe(401);
    expect((await postTicks(url, { symbol: "AAPL", price: 1 }, vars.METRICS_TOKEN!)).status).toBe(401);
  });
});

describe("npm start given the example's secrets", () => {
  it("refuses to start, and says why", async () => {
    const clone = freshClone();
    try {
      writeFileSync(join(clone.dir, ".start.vars"), readFileSync(join(clone.dir, ".dev.vars.example"), "utf8"));
      const port = await freePort();
      const run = runNpm(clone.dir, ["start", "--", "--port", String(port), "--persist-to", join(clone.dir, "state")]);
      expect(await run.exited).not.toBe(0);
      expect(run.logs()).toMatch(
        /npm start will not run with the published example value of PUBLISH_TOKEN, AUTH_JWT_SECRET, METRICS_TOKEN/,
      );
      expect(run.logs()).not.toMatch(/Ready on/);
    } finally {
      clone.remove();
    }
  }, 60_000);
});
