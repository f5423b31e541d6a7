#!/usr/bin/env node
// Builds the client package into client/dist: dist/index.js (ESM, @stomp/stompjs left as a
// dependency, the worker's shared constants inlined) and its type declarations
// (dist/types, the worker's types the API names included). Prints the gzipped size of the
// minified browser bundle without stompjs and with it.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist");
const entry = join(here, "src/index.ts");

rmSync(out, { recursive: true, force: true });
const common = { entryPoints: [entry], bundle: true, format: "esm", target: "es2022", logLevel: "warning" };
await build({
  ...common,
  outfile: join(out, "index.js"),
  platform: "neutral",
  external: ["@stomp/stompjs"],
  sourcemap: true,
});

execFileSync(
  process.execPath,
  [join(here, "../node_modules/typescript/bin/tsc"), "-p", join(here, "tsconfig.build.json")],
  {
    stdio: "inherit",
  },
);
// Node's ESM resolution (moduleResolution node16/nodenext) wants extensions on relative imports, in declarations too.
for (const file of readdirSync(join(out, "types"), { recursive: true }).map(String)) {
  if (!file.endsWith(".d.ts")) continue;
  const path = join(out, "types", file);
  const text = readFileSync(path, "utf8");
  writeFileSync(path, text.replace(/((?:from |import\()")(\.{1,2}\/[^"]+?)(?<!\.js)"/g, '$1$2.js"'));
}

/** The gzipped size of the minified browser bundle, with or without stompjs. */
async function gzipped(withStomp) {
  const result = await build({
    ...common,
    write: false,
    minify: true,
    platform: "browser",
    external: withStomp ? [] : ["@stomp/stompjs"],
  });
  return gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
}
const [bare, full] = await Promise.all([gzipped(false), gzipped(true)]);
const kib = (n) => `${(n / 1024).toFixed(1).padStart(5)} KiB`;
console.log(`client: edge-ticker-client ${kib(bare)} gzipped, ${kib(full)} with @stomp/stompjs (minified, browser)`);
