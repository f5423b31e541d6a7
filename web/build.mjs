#!/usr/bin/env node
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
// Builds the web frontend into dist/web (served as Workers static assets):
// the page (app.js + static files), the operator's status page (status.js) and the embeddable widget (widget.js), whose
// gzipped size is checked against its budget.
import { build, transform } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.WEB_OUT_DIR ?? join(here, "..", "dist", "web");
// Built beside the served directory, then copied over it file by file: a server running
// from `out` (wrangler dev, npm start) keeps its directory (replacing or deleting it made
// wrangler dev answer 500 for every asset until restarted) and never sees it half written.
const next = `${out}.next-${process.pid}`;
// widget.js must stay small for the sites that embed it (overridable to test the check).
const WIDGET_BUDGET = Number(process.env.WIDGET_BUDGET_BYTES ?? 20 * 1024);

rmSync(next, { recursive: true, force: true });
mkdirSync(next, { recursive: true });
cpSync(join(here, "public"), next, { recursive: true });

/**
 * stompjs logs every frame through `this.debug(...)`, a no-op unless a debug function is
 * set (the client never sets one): those calls and their message strings are dropped from
 * the browser bundles (0.5 KiB gzipped of the widget). Only whole-line statements go.
 */
const noStompDebug = {
  name: "no-stomp-debug",
  setup(b) {
    b.onLoad({ filter: /@stomp[\\/]stompjs[\\/]esm6[\\/].*\.js$/ }, (args) => ({
      contents: readFileSync(args.path, "utf8").replace(/^(\s*)this\.debug\(.*\);[ \t]*$/gm, "$1;"),
      loader: "js",
    }));
  },
};
const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
  plugins: [noStompDebug],
};

/** The widget's stylesheet (a template literal, written for people) minified as CSS: it ships in every embed. */
const minifiedWidgetCss = {
  name: "minified-widget-css",
  setup(b) {
    b.onLoad({ filter: /widget[\\/]styles\.ts$/ }, async (args) => {
      const source = readFileSync(args.path, "utf8");
      // The template literal after `WIDGET_CSS =` (comments above it may hold backticks too).
      const start = source.indexOf("`", source.indexOf("WIDGET_CSS =")) + 1;
      const { code } = await transform(source.slice(start, source.lastIndexOf("`")), { loader: "css", minify: true });
      if (!code.startsWith(":host{"))
        throw new Error(`web: the widget's CSS did not minify as expected: ${code.slice(0, 80)}`);
      // A custom property's value starts after its colon's whitespace (CSS Syntax): the minifier keeps the space, we need not.
      const css = code.trim().replace(/(--[\w-]+): /g, "$1:");
      return { contents: `export const WIDGET_CSS = ${JSON.stringify(css)};`, loader: "ts" };
    });
  },
};
await Promise.all([
  build({
    ...common,
    entryPoints: [join(here, "src/page/main.ts")],
    outfile: join(next, "app.js"),
    format: "esm",
    target: "es2022",
  }),
  build({
    ...common,
    entryPoints: [join(here, "src/widget/widget.ts")],
    outfile: join(next, "widget.js"),
    format: "iife",
    target: "es2022",
    plugins: [noStompDebug, minifiedWidgetCss],
    // stompjs names its internals `_likeThis` (never quoted); nothing else in the widget does: shortened (0.3 KiB gzipped).
    mangleProps: /^_/,
  }),
  // The operator's status page (/status.html; its figures come from GET /api/status, behind the metrics token).
  build({
    ...common,
    entryPoints: [join(here, "src/status/main.ts")],
    outfile: join(next, "status.js"),
    format: "esm",
    target: "es2022",
  }),
]);

const sizes = ["app.js", "widget.js"].map((file) => {
  const bytes = readFileSync(join(next, file));
  return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
for (const { file, raw, gzip } of sizes) {
  console.log(
    `web: ${file.padEnd(10)} ${(raw / 1024).toFixed(1).padStart(6)} KiB, ${(gzip / 1024).toFixed(1).padStart(5)} KiB gzipped`,
  );
}
const widget = sizes.find((s) => s.file === "widget.js");
if (widget.gzip > WIDGET_BUDGET) {
  rmSync(next, { recursive: true, force: true });
  console.error(`web: widget.js is ${widget.gzip} bytes gzipped, over its ${WIDGET_BUDGET}-byte budget`);
  process.exit(1);
}

mkdirSync(out, { recursive: true });
const fresh = new Set(readdirSync(next, { recursive: true }).map(String));
for (const stale of readdirSync(out, { recursive: true }).map(String)) {
  if (!fresh.has(stale)) rmSync(join(out, stale), { recursive: true, force: true });
}
// Each file moved into place by a rename: atomic, so two builds at once (two dev servers
// starting together) never meet a file the other is half-way through replacing.
for (const file of fresh) {
  const from = join(next, file);
  if (statSync(from).isDirectory()) mkdirSync(join(out, file), { recursive: true });
  else renameSync(from, join(out, file));
}
rmSync(next, { recursive: true, force: true });
