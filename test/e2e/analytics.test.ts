/**
 * The Analytics Engine writes on `wrangler dev`, where the METRICS_DATASET binding of
 * wrangler.toml is simulated (writes are dropped): hubs and the scheduler shard write their
 * points while they are active, without an error. The points' contents are unit-tested
 * against the binding's interface (test/unit/analytics.test.ts).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { Collector, type Connected, connectStomp } from "../support/stomp";

let srv: DevServer;
let client: Connected;

beforeAll(async () => {
  srv = await startDevServer({
    runtime: "wrangler",
    vars: { TICK_INTERVAL_MS: "300", METRICS_WRITE_MS: "1000", HUB_SHARDS: "1" },
  });
  client = await connectStomp(srv.url);
}, 90_000);

afterAll(async () => {
  await client?.disconnect();
  await srv?.stop();
});

it("hubs and scheduler shards write their figures to the dataset once a period, without errors", async () => {
  const ticks = new Collector(client.client, "/topic/ticker.ANLT");
  await ticks.waitFor(8, 15_000);
  await srv.waitForLog(/"event":"metrics_dataset_writing","kind":"hub","object":"hub:enam:0"/, 15_000);
  await srv.waitForLog(/"event":"metrics_dataset_writing","kind":"scheduler","object":"feed:0"/, 15_000);
  expect(srv.logs()).not.toMatch(/metrics_dataset_failed|request_failed|Uncaught/);
}, 60_000);
