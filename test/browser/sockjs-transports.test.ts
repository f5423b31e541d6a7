/**
 * sockjs-client, loaded from this worker into a page of another origin, and
 * @stomp/stompjs receive live ticks in headless Chromium over every browser transport.
 */
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium";
import { type DevServer, freePort, startDevServer } from "../support/dev-server";
import { startStaticServer } from "../support/static-server";
import type { TickBody } from "../support/stomp";

const ROOT = resolve(import.meta.dirname, "../..");
let srv: DevServer;
let site: Awaited<ReturnType<typeof startStaticServer>>;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  const port = await freePort();
  site = await startStaticServer({
    "/": {
      path: resolve(import.meta.dirname, "fixtures/sockjs-page.html"),
      type: "text/html",
      replace: { __WORKER__: `http://127.0.0.1:${port}` },
    },
    "/stomp.umd.min.js": {
      path: resolve(ROOT, "node_modules/@stomp/stompjs/bundles/stomp.umd.min.js"),
      type: "text/javascript",
    },
  });
  // The page is another origin (another port): it must be in the allow-list.
  srv = await startDevServer({ vars: { TICK_INTERVAL_MS: "250", ALLOWED_ORIGINS: site.url }, port });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await srv?.stop();
});

async function receive(transports: string[], symbol: string): Promise<{ transport: string; ticks: TickBody[] }> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(String(err)));
  try {
    await page.goto(`${site.url}/`);
    return await page.evaluate(
      ([t, s]) =>
        (
          globalThis as unknown as {
            receiveTicks: (t: string[], s: string, n: number) => Promise<{ transport: string; ticks: TickBody[] }>;
          }
        ).receiveTicks(t, s, 3),
      [transports, symbol] as const,
    );
  } catch (err) {
    throw new Error(`${transports.join(",")}: ${String(err)} ${problems.join("; ")}`);
  } finally {
    await page.close();
  }
}

describe("each browser transport", () => {
  for (const transport of [
    "websocket",
    "xhr-streaming",
    "xhr-polling",
    "eventsource",
    "iframe-eventsource",
    "iframe-xhr-polling",
    "jsonp-polling",
  ]) {
    it(`gets live ticks over ${transport}`, async () => {
      const { transport: used, ticks } = await receive([transport], "BRA");
      expect(used).toBe(transport);
      expect(ticks.map((t) => t.symbol)).toEqual(["BRA", "BRA", "BRA"]);
      expect(ticks[2]!.seq).toBeGreaterThan(ticks[0]!.seq);
    });
  }
});

it("still gets live prices with WebSocket forced off", async () => {
  const others = [
    "xhr-streaming",
    "xhr-polling",
    "eventsource",
    "iframe-eventsource",
    "iframe-xhr-polling",
    "jsonp-polling",
  ];
  const { transport, ticks } = await receive(others, "BRB");
  expect(transport).not.toBe("websocket");
  expect(others).toContain(transport);
  expect(ticks).toHaveLength(3);
});
