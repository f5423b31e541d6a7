/**
 * The page and the widget as people use them, in headless Chromium against `npm start`
 * (bare workerd) with the simulator's built-in universe: phones (no sideways scrolling from
 * 320 px), the tape's hint, embed heights, the tick flash, accessibility (axe-core,
 * keyboard), symbols the host does not know and what the widget says about its
 * attributes, and a frozen server: every layout and the iframe embed show their offline
 * state within a heart-beat plus 2 s, and come back on WebSocket. Refreshes the
 * screenshots in docs/screenshots.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium";
import { type DevServer, freePort, startDevServer } from "../support/dev-server";
import { startStaticServer } from "../support/static-server";

const SCREENSHOTS = resolve(import.meta.dirname, "../../docs/screenshots");
const FIXTURES = resolve(import.meta.dirname, "fixtures");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
/** The client library's default heart-beat (client/src/client.ts), which the server echoes. */
const HEARTBEAT_MS = 10_000;
const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-usability-"));
let browser: Browser;
let srv: DevServer;
let site: Awaited<ReturnType<typeof startStaticServer>>;

const FIVE = "AAPL,MSFT,NVDA,BTC-USD,EURUSD=X";
const THREE = "AAPL,MSFT,BTC-USD";
const LAYOUTS = ["tape", "card", "table"] as const;
const embed = (layout: string, symbols = layout === "tape" ? FIVE : THREE) =>
  `/embed?symbols=${symbols}&layout=${layout}`;
const NUMBER = /\d/;
/** The iframe heights /widget.html suggests, for three symbols. */
const EMBED_HEIGHTS = { tape: 56, table: 124, card: 148 } as const;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchChromium();
  const port = await freePort();
  const worker = `http://127.0.0.1:${port}`;
  // An allowed site framing each layout at the height /widget.html suggests for it.
  const sized = Object.fromEntries(
    Object.entries(EMBED_HEIGHTS).map(([layout, height]) => [
      `/sized-${layout}`,
      {
        type: "text/html",
        respond: async () =>
          `<!doctype html><html lang="en"><title>Sized</title><iframe src="${worker}${embed(layout, THREE)}" title="Live prices" style="border:0;width:100%;height:${height}px"></iframe></html>`,
      },
    ]),
  );
  site = await startStaticServer({
    "/iframe": { path: join(FIXTURES, "embed-host.html"), type: "text/html", replace: { __WORKER__: worker } },
    ...sized,
  });
  srv = await startDevServer({
    runtime: "workerd",
    port,
    persistDir,
    vars: { TICK_INTERVAL_MS: "500", SIM_UNIVERSE: "builtin", ALLOWED_ORIGINS: site.url },
  });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await srv?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

async function open(path: string, width = 1280, options: { init?: string; base?: string } = {}): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height: width < 500 ? 844 : 800 });
  if (options.init) await page.addInitScript(options.init);
  await page.goto(`${options.base ?? srv.url}${path}`);
  return page;
}

/** Waits until every price on the page (in widgets too) shows a number; a row of an unknown symbol has none. */
async function pricesShown(page: Page | Frame): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate(`(() => {
          const prices = [...document.querySelectorAll("tr:not(.refused) .price"), ...[...document.querySelectorAll("edge-ticker")].flatMap((w) => [...w.shadowRoot.querySelectorAll(".price")])];
          return prices.length > 0 && prices.every((p) => /\\d/.test(p.textContent));
        })()`),
      { timeout: 15_000 },
    )
    .toBe(true);
}

/** A still picture: no tick flash caught half-way. */
async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.emulateMedia({ reducedMotion: "reduce" });
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage });
  await page.emulateMedia({ reducedMotion: null });
}

const sideways = (page: Page) =>
  page.evaluate(`[document.documentElement.scrollWidth, innerWidth]`) as Promise<[number, number]>;
/** Evaluated inside a widget's shadow root (the test typings have no DOM: code goes as a string). */
const inWidget = (page: Page | Frame, selector: string, expression: string) =>
  page.evaluate(
    `(() => { const root = document.querySelector(${JSON.stringify(selector)}).shadowRoot; return ${expression}; })()`,
  );

describe("phones", () => {
  it("never scroll sideways from 320 px up: the page, /widget.html and each layout", async () => {
    for (const width of [320, 375, 390]) {
      for (const path of ["/", "/widget.html", ...LAYOUTS.map((l) => embed(l))]) {
        const page = await open(path, width);
        await pricesShown(page);
        const [scrollWidth, innerWidth] = await sideways(page);
        expect(scrollWidth, `${path} at ${width} px`).toBeLessThanOrEqual(innerWidth);
        if (width === 390 && (path === "/" || path === "/widget.html")) {
          if (path === "/")
            await expect
              .poll(async () => Number(await page.locator("#chart").getAttribute("data-points")), { timeout: 10_000 })
              .toBeGreaterThan(5);
          await screenshot(page, path === "/" ? "page-390.png" : "widget-390.png", true);
        }
        await page.close();
      }
    }
  });

  it("hints at the tape's hidden symbols and lets the keyboard scroll to them", async () => {
    const page = await open(embed("tape"), 320);
    await pricesShown(page);
    expect(await inWidget(page, "edge-ticker", `root.querySelector(".more").textContent`)).toMatch(/^\+[1-4]$/);
    // Tab reaches the tape (it scrolls), and the arrow keys scroll it.
    await page.keyboard.press("Tab");
    expect(await inWidget(page, "edge-ticker", `root.activeElement?.className`)).toBe("tape");
    for (let i = 0; i < 10; i++) await page.keyboard.press("ArrowRight");
    await page.waitForTimeout(1_000); // smooth scrolling settles
    // Ticks redraw items in place: the scroll position and the focus stay.
    const left = (await inWidget(page, "edge-ticker", `root.querySelector(".tape").scrollLeft`)) as number;
    expect(left).toBeGreaterThan(0);
    await page.waitForTimeout(1_500);
    expect(await inWidget(page, "edge-ticker", `root.querySelector(".tape").scrollLeft`)).toBe(left);
    expect(await inWidget(page, "edge-ticker", `root.activeElement?.className`)).toBe("tape");
    // Wide enough for all five: no hint, and no tab stop.
    await page.setViewportSize({ width: 1280, height: 800 });
    await expect.poll(() => inWidget(page, "edge-ticker", `root.querySelector(".more").hidden`)).toBe(true);
    expect(await inWidget(page, "edge-ticker", `root.querySelector(".tape").hasAttribute("tabindex")`)).toBe(false);
    await page.close();
  });
});

describe("looks", () => {
  it("keeps the transport picker in a closed connection-details panel", async () => {
    const page = await open("/");
    await expect.poll(() => page.locator("#link-state").textContent(), { timeout: 15_000 }).toBe("Connected");
    expect(await page.locator("#transport").isVisible()).toBe(false);
    await page.click(".conn summary");
    expect(await page.locator("#transport").isVisible()).toBe(true);
    expect(await page.locator("#link-detail").textContent()).toContain("via websocket");
    await page.close();
  });

  it("flashes a moved price briefly on its cell only, and not at all with reduced motion", async () => {
    const page = await open("/");
    await page.waitForSelector("td.flash-up, td.flash-down", { timeout: 15_000 });
    const duration = (await page.evaluate(
      `parseFloat(getComputedStyle(document.querySelector("td.flash-up, td.flash-down")).animationDuration)`,
    )) as number;
    expect(duration).toBeGreaterThan(0);
    expect(duration).toBeLessThanOrEqual(0.4);
    expect(await page.locator("tr.flash-up, tr.flash-down").count()).toBe(0);
    await page.close();

    const calm = await browser.context.newPage();
    await calm.emulateMedia({ reducedMotion: "reduce" });
    await calm.goto(srv.url);
    await pricesShown(calm);
    await calm.waitForTimeout(3_000); // several ticks
    expect(await calm.locator(".flash-up, .flash-down").count()).toBe(0);
    await calm.goto(`${srv.url}${embed("table")}`);
    await pricesShown(calm);
    await calm.waitForTimeout(2_000);
    // The widget marks the move, but draws nothing.
    expect(
      await inWidget(
        calm,
        "edge-ticker",
        `[...root.querySelectorAll(".flash")].map((e) => getComputedStyle(e).animationName)`,
      ),
    ).not.toContain("flash");
    await calm.close();
  });

  it("fits each layout in its suggested iframe height, border included, and fills any other height", async () => {
    const doc = await (await fetch(`${srv.url}/widget.html`)).text();
    for (const [layout, height] of Object.entries(EMBED_HEIGHTS)) {
      expect(doc).toContain(`${layout === "card" ? "cards" : layout} <code>${height}px</code>`);
      const page = await open(`/sized-${layout}`, 1280, { base: site.url });
      const frame = await frameOf(page);
      await pricesShown(frame);
      // Measured connected: a status line ("Offline: reconnecting…", after a missed echo on a busy machine) adds a line.
      await expect
        .poll(() => inWidget(frame, "edge-ticker", `root.querySelector(".status").textContent`), { timeout: 15_000 })
        .toBe("");
      const box = (await inWidget(
        frame,
        "edge-ticker",
        `(() => { const r = root.querySelector(".root"); return { bottom: r.getBoundingClientRect().bottom, scroll: r.scrollHeight, client: r.clientHeight }; })()`,
      )) as { bottom: number; scroll: number; client: number };
      expect(box.bottom, layout).toBeLessThanOrEqual(height);
      expect(box.scroll, `${layout} needs no scrolling at ${height}px`).toBeLessThanOrEqual(box.client + 1);
      await page.close();
    }
    // The iframe of the host fixture (160px, cards): the bottom border is inside the frame.
    const host = await open("/iframe", 390, { base: site.url });
    const frame = await frameOf(host);
    await pricesShown(frame);
    expect(
      await inWidget(frame, "edge-ticker", `root.querySelector(".root").getBoundingClientRect().bottom <= innerHeight`),
    ).toBe(true);
    await host.close();
  });
});

async function frameOf(page: Page): Promise<Frame> {
  await page.waitForSelector("iframe");
  await expect.poll(() => page.frames().length).toBeGreaterThan(1);
  return page.frames()[1]!;
}

describe("accessibility", () => {
  it("has no serious or critical axe-core violations on the page, /widget.html and each layout", async () => {
    for (const [path, width] of [
      ["/", 1280],
      ["/", 390],
      ["/widget.html", 1280],
      ["/widget.html", 390],
      ...LAYOUTS.map((l) => [embed(l), 390] as const),
      ["/embed?symbols=NOTREAL,??,AAPL", 390],
    ] as const) {
      const page = await open(path, width);
      await pricesShown(page);
      if (path === "/") await page.click(".conn summary"); // the panel's controls too
      await page.addScriptTag({ content: AXE });
      const violations = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
        r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`)) as string[];
      expect(violations, `${path} at ${width} px`).toEqual([]);
      await page.close();
    }
  });

  it("reads prices without announcing each tick, and works from the keyboard", async () => {
    const page = await open("/");
    await pricesShown(page);
    // No live region holds a price: the state line and the notes are the only ones.
    const live = (await page.evaluate(
      `[...document.querySelectorAll("[aria-live], [role=status], [role=alert]")].map((e) => e.id)`,
    )) as string[];
    expect(live.sort()).toEqual(["add-error", "announcer", "link-state", "stream-note"]);
    const announced = await page.locator("#announcer").textContent();
    await page.waitForTimeout(2_000);
    expect(await page.locator("#announcer").textContent()).toBe(announced);

    // Add a symbol, pick another, remove one, open the details: all from the keyboard.
    const focusOn = async (predicate: string) => {
      for (let i = 0; i < 40; i++) {
        if (await page.evaluate(predicate)) return;
        await page.keyboard.press("Tab");
      }
      throw new Error(`never focused: ${predicate}`);
    };
    await focusOn(`document.activeElement?.id === "symbol-input"`);
    await page.keyboard.type("tsla");
    await page.keyboard.press("Enter");
    await expect
      .poll(() => page.locator('#watchlist tr[data-symbol="TSLA"] .price').textContent(), { timeout: 10_000 })
      .toMatch(NUMBER);
    await focusOn(
      `document.activeElement?.closest("tr")?.dataset.symbol === "MSFT" && document.activeElement.classList.contains("select")`,
    );
    await page.keyboard.press("Enter");
    expect(await page.locator("#chart-title").textContent()).toBe("MSFT");
    // The selection is announced once, with its price.
    await expect.poll(() => page.locator("#announcer").textContent()).toMatch(/^MSFT \d/);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(`document.activeElement.getAttribute("aria-label")`)).toBe("Remove MSFT");
    await page.keyboard.press("Enter");
    expect(await page.locator('#watchlist tr[data-symbol="MSFT"]').count()).toBe(0);
    await focusOn(`document.activeElement?.tagName === "SUMMARY"`);
    await page.keyboard.press("Enter");
    expect(await page.locator("#transport").isVisible()).toBe(true);
    await page.close();
  });
});

describe("symbols", () => {
  it("tells the page's visitor about an unknown symbol and gives the typing back", async () => {
    const page = await open("/");
    await pricesShown(page);
    await page.fill("#symbol-input", "notarealsym");
    await page.press("#symbol-input", "Enter");
    await expect
      .poll(() => page.locator("#add-error").textContent(), { timeout: 10_000 })
      .toBe("NOTAREALSYM is not a known symbol.");
    expect(await page.locator("#symbol-input").inputValue()).toBe("NOTAREALSYM");
    expect(await page.locator("#symbol-input").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator('#watchlist tr[data-symbol="NOTAREALSYM"]').count()).toBe(0);
    expect(await page.locator("#link-state").textContent()).toBe("Connected");
    await page.close();
    // One saved before (an older version, another host) stays, marked, and the rest stream.
    const saved = await open("/", 1280, {
      init: `localStorage.setItem("edge-ticker:watchlist", JSON.stringify(["AAPL", "NOTAREALSYM"]))`,
    });
    await expect
      .poll(() => saved.locator('#watchlist tr[data-symbol="NOTAREALSYM"] .state').textContent(), { timeout: 10_000 })
      .toBe("unknown");
    await expect
      .poll(() => saved.locator('#watchlist tr[data-symbol="AAPL"] .price').textContent(), { timeout: 10_000 })
      .toMatch(NUMBER);
    await saved.close();
  });

  it("has the widget say what is wrong with its symbols, briefly, inside it", async () => {
    const many = Array.from(
      { length: 25 },
      (_, i) =>
        [
          "AAPL",
          "MSFT",
          "NVDA",
          "AMZN",
          "GOOGL",
          "META",
          "TSLA",
          "NFLX",
          "AMD",
          "INTC",
          "IBM",
          "ORCL",
          "JPM",
          "V",
          "KO",
          "DIS",
          "NET",
          "SPY",
          "QQQ",
          "DIA",
          "IWM",
          "GLD",
          "TLT",
          "XOM",
          "CVX",
        ][i],
    ).join(",");
    for (const [query, notes, prices] of [
      ["symbols=NOTREAL,AAPL", ["NOTREAL is not a known symbol."], 1],
      ["symbols=??", ["Not a valid symbol: “??”."], 0],
      ["symbols=NOTREAL", ["NOTREAL is not a known symbol."], 0],
      ["symbols=a%20b,%3F%3F,MSFT&layout=table", ["Not valid symbols: “a b”, “??”."], 1],
      [`symbols=${many}&layout=card`, ["Showing the first 20 of 25 symbols (the most one widget shows)."], 20],
      ["symbols=", ['No symbols: set the symbols attribute, e.g. symbols="AAPL,MSFT".'], 0],
    ] as const) {
      const page = await open(`/embed?${query}`, 390);
      await expect
        .poll(() => inWidget(page, "edge-ticker", `[...root.querySelectorAll(".note")].map((n) => n.textContent)`), {
          timeout: 10_000,
        })
        .toEqual(notes);
      await expect
        .poll(() => inWidget(page, "edge-ticker", `root.querySelectorAll("[data-symbol]").length`))
        .toBe(prices);
      await page.close();
    }
  });
});

describe("a frozen server", () => {
  it("shows every layout and the iframe embed offline within a heart-beat plus 2 s, then comes back on WebSocket", async () => {
    const layouts = await open("/widget.html");
    const iframe = await open("/iframe", 1280, { base: site.url });
    const page = await open("/");
    const frame = await frameOf(iframe);
    for (const p of [layouts, frame, page]) await pricesShown(p);
    const widgets = async () => [
      ...((await layouts.evaluate(
        `[...document.querySelectorAll("edge-ticker")].map((w) => w.shadowRoot.querySelector(".status").textContent)`,
      )) as string[]),
      (await inWidget(frame, "edge-ticker", `root.querySelector(".status").textContent`)) as string,
    ];
    expect(await widgets()).toEqual(["", "", "", ""]);
    const sockjs = (p: Page | Frame) =>
      p.evaluate(`performance.getEntriesByType("resource").filter((e) => e.name.includes("/sockjs/")).length`);

    // Stopped, not killed: the sockets stay open and only the missing heart-beat echo tells.
    const frozenAt = Date.now();
    process.kill(-srv.pid, "SIGSTOP");
    try {
      await expect
        .poll(widgets, { timeout: HEARTBEAT_MS + 4_000, interval: 100 })
        .toEqual(Array(4).fill("Offline: reconnecting…"));
      expect(Date.now() - frozenAt).toBeLessThanOrEqual(HEARTBEAT_MS + 2_500);
      expect(
        await layouts.evaluate(
          `[...document.querySelectorAll("edge-ticker")].every((w) => w.shadowRoot.querySelector(".root.offline"))`,
        ),
      ).toBe(true);
      await expect.poll(() => page.locator("#link-state").textContent(), { timeout: 3_000 }).toBe("Reconnecting…");
      expect(await page.locator("#retry-now").isVisible()).toBe(true);
      await screenshot(layouts, "widget-offline.png");
    } finally {
      process.kill(-srv.pid, "SIGCONT");
    }
    // Back: "Retry now" on the page (pressed as is: it may have hidden itself for an attempt
    // under way), the tab shown for the widgets; WebSocket again, no SockJS.
    const back = Date.now();
    await page.evaluate(`document.querySelector("#retry-now").click()`);
    const shown = `document.dispatchEvent(new Event("visibilitychange"))`;
    await layouts.evaluate(shown);
    await frame.evaluate(shown);
    await expect
      .poll(() => page.locator("#link-state").textContent(), { timeout: 5_000, interval: 100 })
      .toBe("Connected");
    await expect.poll(widgets, { timeout: 5_000, interval: 100 }).toEqual(["", "", "", ""]);
    expect(Date.now() - back).toBeLessThan(5_000);
    expect(await page.locator("#link-detail").textContent()).toContain("via websocket");
    for (const p of [layouts, frame, page]) expect(await sockjs(p)).toBe(0);
    await Promise.all([layouts.close(), iframe.close(), page.close()]);
  });
});

describe("screenshots", () => {
  it("refreshes docs/screenshots at 1280 px", async () => {
    // The default watchlist, not what the tests above left in it.
    const page = await open("/", 1280, { init: `localStorage.removeItem("edge-ticker:watchlist")` });
    await pricesShown(page);
    await expect
      .poll(async () => Number(await page.locator("#chart").getAttribute("data-points")), { timeout: 10_000 })
      .toBeGreaterThan(5);
    await screenshot(page, "page.png");
    await page.goto(`${srv.url}/widget.html`);
    await pricesShown(page);
    await screenshot(page, "widget.png", true);
    await page.close();
  });
});
