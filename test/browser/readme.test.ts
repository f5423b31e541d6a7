/**
 * The README's snippets, taken from the Markdown as they are and run against a real server, so
 * they cannot rot: fenced blocks whose info string carries `test:NAME` (GitHub shows only the
 * language). `127.0.0.1:8787` in a snippet becomes the test server's address; nothing else
 * is changed. Also checks the widget size the README states against the build.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium";
import { type DevServer, freePort, startDevServer } from "../support/dev-server";
import { freshClone, runNpm } from "../support/fresh-clone";
import { startStaticServer } from "../support/static-server";

const ROOT = resolve(import.meta.dirname, "../..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
/** Where the README's snippets expect the server (`npm run dev`). */
const README_HOST = "127.0.0.1:8787";

/** `test:NAME` blocks by name. */
function snippets(): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of README.matchAll(/^```\w+ test:(\w+)\n([\s\S]*?)^```$/gm)) {
    expect(found.has(m[1]!), `two README snippets named ${m[1]}`).toBe(false);
    found.set(m[1]!, m[2]!);
  }
  return found;
}

const blocks = snippets();
let srv: DevServer;
let site: Awaited<ReturnType<typeof startStaticServer>>;
let browser: Browser;

/** A README snippet pointed at the test server (or `host`). */
function snippet(name: string, host = new URL(srv.url).host): string {
  const code = blocks.get(name);
  if (code === undefined) throw new Error(`the README has no \`test:${name}\` snippet`);
  expect(code, name).toContain(README_HOST);
  return code.replaceAll(README_HOST, host);
}

/** Runs the curl snippet against `host`: its two JSON answers, the quotes and the publish. */
async function runCurl(host: string): Promise<Array<Record<string, unknown>>> {
  const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", snippet("curl", host)], {
    timeout: 20_000,
  });
  // Two JSON bodies back to back (neither ends in a newline); an error answer is a line of text.
  return stdout.split(/(?<=\})(?=\{)/).map((body) => {
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new Error(`not JSON: ${stdout}`);
    }
  });
}

beforeAll(async () => {
  // A third-party site serving the browser snippets, and @stomp/stompjs's UMD bundle as the README says.
  const page = (name: string) => ({
    type: "text/html",
    respond: async () => `<!doctype html><meta charset="utf-8"><title>${name}</title>\n${snippet(name)}`,
  });
  site = await startStaticServer({
    "/browser.html": page("browser"),
    "/widget.html": page("widget"),
    "/stomp.umd.min.js": {
      path: join(ROOT, "node_modules/@stomp/stompjs/bundles/stomp.umd.min.js"),
      type: "text/javascript",
    },
  });
  // The publish token the README's curl uses (npm run dev writes it to .dev.vars); defaults otherwise.
  srv = await startDevServer({ vars: { PUBLISH_TOKEN: "dev-publish-token", ALLOWED_ORIGINS: site.url } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await srv?.stop();
  await site?.close();
});

describe("README snippets", () => {
  it("are the ones this test runs", () => {
    expect([...blocks.keys()].sort()).toEqual(["browser", "curl", "node", "widget"]);
  });

  it("curl: quotes, then a publish; stompjs in Node: AAPL held at the published price while MSFT ticks", async () => {
    const [quotes, published] = await runCurl(new URL(srv.url).host);
    expect((quotes!.quotes as { symbol: string }[]).map((q) => q.symbol)).toEqual(["AAPL", "BTC-USD"]);
    expect(published!.published).toBe(1);

    // Run as the README says (`node ticks.mjs`, beside the installed @stomp/stompjs), on this Node.
    const dir = join(ROOT, "test-results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "ticks.mjs"), snippet("node"));
    const child = spawn(process.execPath, ["ticks.mjs"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    try {
      const lines = () =>
        out
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split(" "));
      await expect
        .poll(() => lines().filter(([symbol]) => symbol === "MSFT").length, { timeout: 15_000 })
        .toBeGreaterThanOrEqual(3)
        .catch((e: Error) => Promise.reject(new Error(`${e.message}\nstdout:\n${out}\nstderr:\n${err}`)));
      const aapl = lines().filter(([symbol]) => symbol === "AAPL");
      expect(aapl.length, out).toBe(1);
      expect(aapl[0]![1]).toBe("231.5");
      const msftSeqs = lines()
        .filter(([symbol]) => symbol === "MSFT")
        .map(([, , seq]) => Number(seq));
      expect(msftSeqs).toEqual([...msftSeqs].sort((a, b) => a - b));
      expect(err).toBe("");
    } finally {
      child.kill();
    }
  });

  it("stompjs over SockJS in a browser page on another site logs ticks", async () => {
    const page = await browser.context.newPage();
    const ticks: unknown[] = [];
    page.on(
      "console",
      (msg) =>
        void msg
          .args()[0]
          ?.jsonValue()
          .then((v) => ticks.push(v)),
    );
    await page.goto(`${site.url}/browser.html`);
    await expect.poll(() => ticks.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(ticks[0]).toMatchObject({ symbol: "AAPL", price: expect.any(Number) });
    await page.close();
  });

  it("the widget embedded on another site shows prices", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/widget.html`);
    for (const symbol of ["AAPL", "MSFT", "BTC-USD"]) {
      const price = () => page.locator(`edge-ticker [data-symbol="${symbol}"]`).getAttribute("data-price");
      await expect.poll(price, { timeout: 15_000, message: symbol }).toMatch(/^\d+(\.\d+)?$/);
    }
    await page.close();
  });

  it("states the widget's size as the build makes it", () => {
    const stated = /`widget\.js` is about (\d+) KB gzipped/.exec(README);
    expect(stated, "the README's widget size").not.toBeNull();
    // The server start above built dist/web.
    const built = gzipSync(readFileSync(join(ROOT, "dist/web/widget.js"))).length / 1024;
    expect(Math.abs(Number(stated![1]) - built)).toBeLessThanOrEqual(1);
  });
});

describe('README "Try it" on `npm run dev` itself', () => {
  it("publishes with the local token `npm run dev` writes to .dev.vars on a fresh clone", async () => {
    const clone = freshClone();
    const port = await freePort();
    // As a user runs it, on another port than 8787 only (other servers may be using it).
    const dev = runNpm(clone.dir, ["run", "dev", "--", "--port", String(port)]);
    try {
      await dev.waitForLog(new RegExp(`Ready on http://127\\.0\\.0\\.1:${port}`), 90_000);
      expect(dev.logs()).toContain("Created .dev.vars from .dev.vars.example");
      const [quotes, published] = await runCurl(`127.0.0.1:${port}`);
      expect((quotes!.quotes as { symbol: string }[]).map((q) => q.symbol)).toEqual(["AAPL", "BTC-USD"]);
      expect(published, dev.logs().slice(-2000)).toMatchObject({
        published: 1,
        ticks: [{ symbol: "AAPL", price: 231.5 }],
      });
      // The secrets reach wrangler in its own process, not on a command line anyone can read.
      expect(dev.logs()).not.toContain("dev-publish-token");
    } finally {
      await dev.stop();
      clone.remove();
    }
  }, 150_000);
});
