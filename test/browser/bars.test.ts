/**
 * The page's candlestick chart and the widget's day sparklines in headless Chromium
 * against `npm start` (bare workerd, the simulator): the day's candles at once, 1D/5D,
 * the last candle moving with live ticks, the day's figures, and screenshots at 1280 and
 * 390 px in docs/screenshots.
 */
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium";
import { type DevServer, startDevServer } from "../support/dev-server";
import { newYork, xnysReference } from "../support/xnys-reference";

const SCREENSHOTS = resolve(import.meta.dirname, "../../docs/screenshots");
let browser: Browser;
let srv: DevServer;

beforeAll(async () => {
  browser = await launchChromium();
  srv = await startDevServer({ runtime: "workerd", vars: { TICK_INTERVAL_MS: "250", SIM_UNIVERSE: "builtin" } });
});
afterAll(async () => {
  await browser?.close();
  await srv?.stop();
});

interface BarsAnswer {
  bars: Array<{ t: number; c: number }>;
  session?: { open: number };
}

async function open(width: number, watchlist: string[]): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height: width < 500 ? 844 : 800 });
  await page.addInitScript(
    `localStorage.setItem("edge-ticker:watchlist", ${JSON.stringify(JSON.stringify(watchlist))}); localStorage.removeItem("edge-ticker:range");`,
  );
  await page.goto(srv.url);
  await expect.poll(() => page.locator("#link-state").textContent(), { timeout: 15_000 }).toBe("Connected");
  return page;
}

const chartAttr = async (page: Page, name: string) => (await page.locator("#chart").getAttribute(`data-${name}`)) ?? "";

/** What the API says the chart of a range should hold. */
async function expectedCandles(symbol: string, interval: "1m" | "5m"): Promise<number> {
  const answer = (await (
    await fetch(`${srv.url}/api/bars/${encodeURIComponent(symbol)}?interval=${interval}&limit=2000`)
  ).json()) as BarsAnswer;
  return interval === "1m" ? answer.bars.filter((b) => b.t >= answer.session!.open).length : answer.bars.length;
}

describe("the candlestick chart", () => {
  it("opens on the whole trading day at once, switches to five days, and shows the day's figures", async () => {
    const page = await open(1280, ["AAPL", "BTC-USD"]);
    const day = await expectedCandles("AAPL", "1m");
    // A full session (390 one-minute bars), or as much of today's as has traded.
    expect(day).toBeGreaterThan(0);
    await expect.poll(() => chartAttr(page, "points"), { timeout: 10_000 }).toBe(String(day));
    expect(await chartAttr(page, "range")).toBe("1D");
    expect(await page.locator("#chart canvas").count()).toBeGreaterThan(0);
    for (const field of ["open", "high", "low", "prevClose"]) {
      await expect
        .poll(() => page.locator(`#day dd[data-field="${field}"]`).textContent(), { timeout: 5_000 })
        .toMatch(/^\d[\d,]*\.\d+$/);
    }
    expect(await page.locator('#day dd[data-field="volume"]').textContent()).toMatch(/\d/);
    expect(await page.locator('#day dd[data-field="session"]').textContent()).toMatch(
      /^(Market open|Pre-market|After hours|Market closed)$/,
    );
    await page.emulateMedia({ reducedMotion: "reduce" });
    await page.screenshot({ path: join(SCREENSHOTS, "chart-1280.png") });

    await page.getByRole("button", { name: "5D" }).click();
    const five = await expectedCandles("AAPL", "5m");
    // Five sessions: each but the newest (which may be in progress) whole, 78 five-minute bars or 42 on an early close.
    const { bars: fives } = (await (
      await fetch(`${srv.url}/api/bars/AAPL?interval=5m&limit=2000`)
    ).json()) as BarsAnswer;
    const perDay = new Map<string, number>();
    for (const b of fives) perDay.set(newYork(b.t).date, (perDay.get(newYork(b.t).date) ?? 0) + 1);
    expect(perDay.size).toBe(5);
    const reference = xnysReference();
    for (const day of [...perDay.keys()].slice(0, -1)) {
      const session = reference.get(day)!;
      expect(perDay.get(day), day).toBe((session.close - session.open) / 300_000);
    }
    await expect.poll(() => chartAttr(page, "points"), { timeout: 10_000 }).toBe(String(five));
    expect(await chartAttr(page, "range")).toBe("5D");
    expect(await page.getByRole("button", { name: "5D" }).getAttribute("aria-pressed")).toBe("true");
    await page.getByRole("button", { name: "1D" }).click();
    await expect
      .poll(() => chartAttr(page, "points"), { timeout: 10_000 })
      .toBe(String(await expectedCandles("AAPL", "1m")));
    await page.close();
  });

  it("moves the last candle with live ticks (24/7 crypto)", async () => {
    const page = await open(1280, ["BTC-USD"]);
    await expect.poll(async () => Number(await chartAttr(page, "points")), { timeout: 10_000 }).toBeGreaterThan(0);
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // The last candle is the current minute's, and its close follows the ticks.
    await expect
      .poll(async () => Number(await chartAttr(page, "last-time")), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(minute);
    const closes = new Set<string>();
    await expect
      .poll(
        async () => {
          closes.add(await chartAttr(page, "last-close"));
          return closes.size;
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBeGreaterThanOrEqual(3);
    // The close is the price the watchlist shows.
    const row = page.locator('#watchlist tr[data-symbol="BTC-USD"] .price');
    await expect
      .poll(
        async () =>
          Number((await row.textContent())!.replace(/,/g, "")) === Number(await chartAttr(page, "last-close")),
        { timeout: 5_000, interval: 100 },
      )
      .toBe(true);
    await page.close();
  });

  it("fills the space at 390 px too, without sideways scrolling", async () => {
    const page = await open(390, ["BTC-USD", "AAPL"]);
    await expect.poll(async () => Number(await chartAttr(page, "points")), { timeout: 10_000 }).toBeGreaterThan(10);
    const [scrollWidth, innerWidth, chartWidth] = (await page.evaluate(
      `[document.documentElement.scrollWidth, innerWidth, document.querySelector("#chart").getBoundingClientRect().width]`,
    )) as number[];
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth!);
    expect(chartWidth).toBeGreaterThan(innerWidth! - 40);
    await page.emulateMedia({ reducedMotion: "reduce" });
    await page.screenshot({ path: join(SCREENSHOTS, "chart-390.png"), fullPage: true });
    await page.close();
  });
});

describe("the widget's cards", () => {
  it("draw the day since the open, with the previous close as a reference line", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/widget.html`);
    const card = 'edge-ticker[layout="card"]';
    const read = () =>
      page.evaluate(`(() => {
        const li = document.querySelector(${JSON.stringify(card)}).shadowRoot.querySelector('[data-symbol="AAPL"]');
        const line = li && li.querySelector("svg line.ref");
        const poly = li && li.querySelector("svg polyline");
        return { ref: line ? line.getAttribute("y1") : null, points: poly ? poly.getAttribute("points").split(" ").length : 0 };
      })()`) as Promise<{ ref: string | null; points: number }>;
    // The day's five-minute closes: a full session is 78.
    const answer = (await (await fetch(`${srv.url}/api/bars/AAPL?interval=5m&limit=300`)).json()) as BarsAnswer;
    const expected = answer.bars.filter((b) => b.t >= answer.session!.open).length;
    await expect.poll(async () => (await read()).points, { timeout: 10_000 }).toBeGreaterThanOrEqual(expected);
    // The reference line comes with the first tick (its previous close).
    await expect.poll(async () => (await read()).ref, { timeout: 10_000 }).toMatch(/^\d+(\.\d)?$/);
    await page.close();
  });
});
