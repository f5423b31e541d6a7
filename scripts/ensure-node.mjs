#!/usr/bin/env node
// postinstall: wrangler, Miniflare and vitest need Node 22.12+. On an older Node (machines that
// only have Node 20 and the npm registry), install the Node named in .node-version from the npm
// registry into node_modules and link it as node_modules/.bin/node: `npm run` and `npx` put that
// folder first on the PATH, so every script then runs on it. A Node that is new enough is used
// as it is, and nothing is downloaded. Plain Node 20 code, no dependencies.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const BIN = resolve(ROOT, "node_modules/.bin");
const LINK = resolve(BIN, "node");
const MINIMUM = [22, 12];

const pinned = readFileSync(resolve(ROOT, ".node-version"), "utf8").trim();
// The Node that runs npm, not this script's: npm puts node_modules/.bin first on the PATH of
// install scripts too, so a second `npm install` would otherwise run this on the linked Node.
const npmNode = process.env.npm_node_execpath ?? process.execPath;
const version = execFileSync(npmNode, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
const [major, minor] = version.split(".").map(Number);
const newEnough = major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]);

// A link left by an earlier install under an old Node would shadow a newer Node installed since.
rmSync(LINK, { force: true });
if (newEnough) process.exit(0);

if (process.platform === "win32") {
  console.error(`Edge Ticker needs Node ${MINIMUM.join(".")}+ (this is ${version}): install Node ${pinned}.`);
  process.exit(1);
}
// The registry's per-platform Node packages, as the npm `node` package names them.
const arch = process.platform === "darwin" && process.arch === "arm64" ? "node-bin" : "node";
const name = `${arch}-${process.platform}-${process.arch}`;
const dir = resolve(ROOT, "node_modules/.node");
const binary = resolve(dir, "node_modules", name, "bin/node");
if (!existsSync(binary) || !execFileSync(binary, ["--version"], { encoding: "utf8" }).includes(pinned)) {
  console.log(
    `Node ${version} is older than ${MINIMUM.join(".")}: installing ${name}@${pinned} from the npm registry.`,
  );
  mkdirSync(dir, { recursive: true });
  execFileSync(
    "npm",
    ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", `${name}@${pinned}`],
    {
      stdio: "inherit",
    },
  );
}
mkdirSync(BIN, { recursive: true });
symlinkSync(relative(BIN, binary), LINK);
console.log(`npm run and npx use Node ${pinned} (node_modules/.bin/node).`);
