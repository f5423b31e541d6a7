#!/usr/bin/env node
// Builds the web frontend into dist/web (served as Workers static assets):
// the page (app.js + static files) and the embeddable widget (widget.js), whose
// gzipped size is checked against its budget.
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.WEB_OUT_DIR ?? join(here, "..", "dist", "web");
// widget.js must stay small for the sites that embed it (overridable to test the check).
const WIDGET_BUDGET = Number(process.env.WIDGET_BUDGET_BYTES ?? 20 * 1024);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(here, "public"), out, { recursive: true });

const common = { bundle: true, minify: true, sourcemap: true, legalComments: "linked", logLevel: "warning" };
await Promise.all([
  build({ ...common, entryPoints: [join(here, "src/page/main.ts")], outfile: join(out, "app.js"), format: "esm", target: "es2022" }),
  build({ ...common, entryPoints: [join(here, "src/widget/widget.ts")], outfile: join(out, "widget.js"), format: "iife", target: "es2020" }),
]);

const sizes = ["app.js", "widget.js"].map((file) => {
  const bytes = readFileSync(join(out, file));
  return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
for (const { file, raw, gzip } of sizes) {
  console.log(`web: ${file.padEnd(10)} ${(raw / 1024).toFixed(1).padStart(6)} KiB, ${(gzip / 1024).toFixed(1).padStart(5)} KiB gzipped`);
}
const widget = sizes.find((s) => s.file === "widget.js");
if (widget.gzip > WIDGET_BUDGET) {
  console.error(`web: widget.js is ${widget.gzip} bytes gzipped, over its ${WIDGET_BUDGET}-byte budget`);
  process.exit(1);
}
