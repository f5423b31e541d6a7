/**
 * Entitlements in headless Chromium against `npm start`: under PUBLIC_DELAY_MS a widget
 * without a token shows its prices delayed, with the marker the display rules ask for;
 * a widget with `token-url` fetches a real-time token from the embedding site's backend,
 * shows live prices, and fetches a fresh token before the first one expires.
 */
import { resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium";
import { type DevServer, freePort, startDevServer } from "../support/dev-server";
import { startStaticServer } from "../support/static-server";
import { signToken, TEST_SECRET } from "../support/tokens";

const FIXTURES = resolve(import.meta.dirname, "fixtures");
const DELAY_MS = 3_000;
/** Short-lived, so the widget must renew it during the test. */
const TOKEN_LIFETIME_S = 6;
let browser: Browser;
let srv: DevServer;
let site: Awaited<ReturnType<typeof startStaticServer>>;
const tokensIssued: number[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  const port = await freePort();
  site = await startStaticServer({
    "/": {
      path: resolve(FIXTURES, "widget-token-host.html"),
      type: "text/html",
      replace: { __WORKER__: `http://127.0.0.1:${port}` },
    },
    // The site's own token endpoint: what the README's ten-line example does.
    "/token": {
      type: "application/json",
      respond: async () => {
        tokensIssued.push(Date.now());
        return JSON.stringify({
          token: await signToken({ sub: "reader-1", rt: true }, { expiresIn: TOKEN_LIFETIME_S }),
        });
      },
    },
  });
  srv = await startDevServer({
    runtime: "workerd",
    port,
    vars: {
      TICK_INTERVAL_MS: "250",
      ALLOWED_ORIGINS: site.url,
      PUBLIC_DELAY_MS: String(DELAY_MS),
      AUTH_JWT_SECRET: TEST_SECRET,
    },
  });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await srv?.stop();
});

it("shows live prices with token-url, delayed ones marked 'Delayed 3 s' without, and renews the token before it expires", async () => {
  const page = await browser.context.newPage();
  // The widget's connection logs every STOMP ERROR it gets ("Token expired" would be one).
  const warnings: string[] = [];
  page.on("console", (m) => void (m.type() === "warning" && warnings.push(m.text())));
  await page.goto(site.url);
  const live = page.locator('#live [data-symbol="ENTL"]');
  const pub = page.locator('#public [data-symbol="ENTL"]');
  await expect.poll(() => live.getAttribute("data-seq"), { timeout: 15_000 }).toMatch(/\d/);
  await expect.poll(() => pub.getAttribute("data-seq"), { timeout: 15_000 }).toMatch(/\d/);

  // The public widget is about 3 s (12 ticks) behind and says so beside the price.
  await expect
    .poll(async () => Number(await live.getAttribute("data-seq")) - Number(await pub.getAttribute("data-seq")))
    .toBeGreaterThanOrEqual(8);
  expect(await pub.locator(".delay").textContent()).toBe("Delayed 3 s");
  expect(await pub.getAttribute("title")).toMatch(/delayed 3 s$/);
  expect(await live.locator(".delay").count()).toBe(0);

  // Past the first token's exp, the live widget is still live on the same connection, with a renewed token.
  const seqBefore = Number(await live.getAttribute("data-seq"));
  await page.waitForTimeout((TOKEN_LIFETIME_S + 2) * 1000);
  expect(tokensIssued.length).toBeGreaterThanOrEqual(2);
  await expect.poll(async () => Number(await live.getAttribute("data-seq"))).toBeGreaterThan(seqBefore + 10);
  expect(await live.locator(".delay").count()).toBe(0);
  expect(warnings.filter((w) => w.includes("server error"))).toEqual([]);
  await page.close();
});
