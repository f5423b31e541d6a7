import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const out = mkdtempSync(join(tmpdir(), "edge-ticker-web-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function build(env: Record<string, string>) {
  return spawnSync(process.execPath, ["web/build.mjs"], {
    cwd: ROOT,
    env: { ...process.env, WEB_OUT_DIR: out, ...env },
    encoding: "utf8",
  });
}

it("builds the page and the widget, printing the widget's gzipped size within its 20 KiB budget", () => {
  const run = build({});
  expect(run.status, run.stderr).toBe(0);
  const line = /widget\.js\s+[\d.]+ KiB,\s+([\d.]+) KiB gzipped/.exec(run.stdout);
  expect(line, run.stdout).not.toBeNull();
  expect(Number(line![1])).toBeLessThanOrEqual(20);
  for (const file of ["index.html", "app.js", "widget.js", "widget.html", "styles.css"])
    expect(existsSync(join(out, file)), file).toBe(true);
});

it("fails the build when the widget outgrows its budget, leaving the served files as they were", () => {
  const before = readFileSync(join(out, "widget.js"), "utf8");
  const run = build({ WIDGET_BUDGET_BYTES: "1000" });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/widget\.js is \d+ bytes gzipped, over its 1000-byte budget/);
  expect(readFileSync(join(out, "widget.js"), "utf8")).toBe(before);
});

it("rebuilds into the same directory a running server serves from: files replaced in place, stale ones gone", () => {
  // wrangler dev answered 500 for every asset after its directory was deleted or replaced.
  const dir = statSync(out).ino;
  writeFileSync(join(out, "stale.js"), "old");
  expect(build({}).status).toBe(0);
  expect(statSync(out).ino).toBe(dir);
  expect(existsSync(join(out, "stale.js"))).toBe(false);
  expect(existsSync(join(out, "widget.js"))).toBe(true);
});
