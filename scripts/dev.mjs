#!/usr/bin/env node
// `npm run dev`: wrangler dev on 127.0.0.1, offline (no telemetry, no Cloudflare
// look-ups), with .dev.vars created from the example on first run.
// Extra arguments pass through: `npm run dev -- --port 9000`.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local publish token).");
}
const args = process.argv.slice(2);
const has = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
// wrangler's own launcher, not npx: a signal sent to npx would leave wrangler and workerd running.
const wrangler = new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url).pathname;
const child = spawn(
  process.execPath,
  [
    wrangler,
    "dev",
    ...(has("--ip") ? [] : ["--ip", "127.0.0.1"]),
    ...(has("--port") ? [] : ["--port", "8787"]),
    "--test-scheduled",
    ...args,
  ],
  { stdio: "inherit", env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" } },
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
