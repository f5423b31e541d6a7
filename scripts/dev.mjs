#!/usr/bin/env node
// `npm run dev`: wrangler dev on 127.0.0.1, offline (no telemetry, no Cloudflare
// look-ups), with .dev.vars created from the example on first run and passed to it (see
// dev-vars-preload.mjs: wrangler 4.164 no longer reads it itself with `[secrets]` declared).
// Extra arguments pass through: `npm run dev -- --port 9000`.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { exampleSecrets, isLoopback, readVars } from "./vars-file.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const DEV_VARS = resolve(ROOT, ".dev.vars");
const EXAMPLE = resolve(ROOT, ".dev.vars.example");
if (!existsSync(DEV_VARS)) {
  copyFileSync(EXAMPLE, DEV_VARS);
  console.log("Created .dev.vars from .dev.vars.example (local publish token).");
}
const args = process.argv.slice(2);
const has = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
const flag = (name) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  return i < 0 ? undefined : args[i].includes("=") ? args[i].slice(name.length + 1) : args[i + 1];
};
// The example's secrets are published: fine on this machine, never on a network.
const ip = flag("--ip") ?? "127.0.0.1";
const known = exampleSecrets(readVars(DEV_VARS), EXAMPLE);
if (!isLoopback(ip) && known.length > 0) {
  console.error(
    `npm run dev: --ip ${ip} would expose the example secrets of .dev.vars (${known.join(", ")}) beyond this machine. Put your own values in .dev.vars first.`,
  );
  process.exit(1);
}
// wrangler's own entry, not npx or its launcher: a signal sent to those would leave wrangler
// and workerd running, and the preload must run in the process that parses the flags.
const cli = resolve(ROOT, "node_modules/wrangler/wrangler-dist/cli.js");
const child = spawn(
  process.execPath,
  [
    "--no-warnings",
    "--import",
    new URL("./dev-vars-preload.mjs", import.meta.url).href,
    cli,
    "dev",
    ...(has("--ip") ? [] : ["--ip", "127.0.0.1"]),
    ...(has("--port") ? [] : ["--port", "8787"]),
    "--test-scheduled",
    ...args,
  ],
  {
    stdio: "inherit",
    env: {
      ...process.env,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      EDGE_TICKER_DEV_VARS: DEV_VARS,
    },
  },
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
