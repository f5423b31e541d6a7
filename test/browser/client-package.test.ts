/**
 * The client package as its users get it: `npm pack` of client/, installed into a fresh
 * directory outside the repository (its dependency from the npm registry), and the two
 * quick starts of client/README.md run from there against `npm start`: the Node one as it
 * is, the browser one bundled from the installed package and run in Chromium. Type
 * declarations are checked as a Node project resolves them (`nodenext`).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Browser, launchChromium } from "../support/chromium";
import { type DevServer, startDevServer } from "../support/dev-server";
import { startStaticServer } from "../support/static-server";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const README = readFileSync(join(ROOT, "client/README.md"), "utf8");
const README_HOST = "http://127.0.0.1:8787";
const app = mkdtempSync(join(tmpdir(), "edge-ticker-client-app-"));
let srv: DevServer;
let site: Awaited<ReturnType<typeof startStaticServer>>;
let browser: Browser;

/** The README's `test:NAME` block, its host made the test server's. */
function snippet(name: string): string {
  const m = new RegExp(`^\`\`\`\\w+ test:${name}\\n([\\s\\S]*?)^\`\`\`$`, "m").exec(README);
  expect(m, `client/README.md has a test:${name} block`).not.toBeNull();
  expect(m![1]).toContain(README_HOST);
  return m![1]!.replaceAll(README_HOST, srv.url);
}

beforeAll(async () => {
  const bundle = join(app, "bundle");
  site = await startStaticServer({
    "/": {
      type: "text/html",
      respond: async () => `<!doctype html><p id="aapl"></p><p id="state"></p><script src="/app.js"></script>`,
    },
    "/app.js": { type: "text/javascript", respond: async () => readFileSync(join(bundle, "app.js"), "utf8") },
  });
  srv = await startDevServer({ runtime: "workerd", vars: { TICK_INTERVAL_MS: "250", ALLOWED_ORIGINS: site.url } });
  browser = await launchChromium();
  // Packed as it would be published (prepack builds it), then installed like any package.
  await run("npm", ["pack", "--pack-destination", app], { cwd: join(ROOT, "client") });
  const tarball = readdirSync(app).find((f) => f.endsWith(".tgz"))!;
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `./${tarball}`], { cwd: app });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await srv?.stop();
  rmSync(app, { recursive: true, force: true });
});

it("installs from its tarball with its dependency, and no more", () => {
  const installed = readdirSync(join(app, "node_modules")).filter((f) => !f.startsWith("."));
  expect(installed.sort()).toEqual(["@stomp", "edge-ticker-client"]);
  const pkg = JSON.parse(readFileSync(join(app, "node_modules/edge-ticker-client/package.json"), "utf8"));
  expect(pkg).toMatchObject({ type: "module", sideEffects: false });
});

it("runs the Node quick start from the installed package: ticks of AAPL print", async () => {
  writeFileSync(join(app, "ticks.mjs"), snippet("client-node"));
  const child = spawn(process.execPath, ["ticks.mjs"], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  try {
    await expect
      .poll(() => out.split("\n").filter((l) => /^AAPL \d+(\.\d+)? \d+$/.test(l)).length, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(3);
  } finally {
    child.kill();
  }
  // Consecutive positions: each tick once, in order.
  const seqs = out.split("\n").flatMap((l) => {
    const m = /^AAPL \S+ (\d+)$/.exec(l);
    return m ? [Number(m[1])] : [];
  });
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
});

it("type-checks the quick start against the installed declarations as a Node project does", async () => {
  writeFileSync(
    join(app, "check.ts"),
    `import { connect, type ServerErrorCode, type Tick } from "edge-ticker-client";
const client = connect({ url: "http://127.0.0.1:8787", transport: "auto" });
for await (const tick of client.ticks("AAPL")) {
  const t: Tick = tick;
  console.log(t.symbol, t.price, t.seq, t.marketState);
}
const code: ServerErrorCode = "not-entitled";
// @ts-expect-error: the compiler knows the server's codes
const bogus: ServerErrorCode = "no-such-code";
console.log(code, bogus);
`,
  );
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022"];
  const types = ["--typeRoots", join(ROOT, "node_modules/@types"), "--types", "node", "check.ts"];
  const result = await run(process.execPath, [tsc, ...args, ...types], { cwd: app }).catch(
    (e: { stdout: string }) => e,
  );
  expect(result.stdout).toBe("");
});

it("runs the browser quick start, bundled from the installed package, in Chromium", async () => {
  writeFileSync(join(app, "app.js"), snippet("client-browser"));
  await build({
    entryPoints: [join(app, "app.js")],
    bundle: true,
    minify: true,
    format: "iife",
    outfile: join(app, "bundle/app.js"),
    absWorkingDir: app,
    logLevel: "silent",
  });
  const page = await browser.context.newPage();
  await page.goto(site.url);
  await expect.poll(() => page.locator("#state").textContent(), { timeout: 15_000 }).toBe("open");
  await expect.poll(() => page.locator("#aapl").textContent(), { timeout: 15_000 }).toMatch(/^\d+(\.\d+)?$/);
  await page.close();
});
