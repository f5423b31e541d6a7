#!/usr/bin/env node
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
// `npm start`: Edge Ticker on one bare workerd process through the Miniflare API: no dev
// proxy, no file watching, durable state in a directory. The way to self-host without
// Cloudflare, and what benchmarks measure.
//
//   npm start -- --port 8787 --ip 127.0.0.1 --var TICK_INTERVAL_MS:500 --persist-to .state
//
// Bindings, vars, migrations and assets come from wrangler.toml (read by wrangler's own
// config reader, offline); secrets from .start.vars (--secrets-file), made with random
// values on the first run. It never runs with the published example secrets.
import { build } from "esbuild";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { exampleSecrets, readVars, SECRETS, writeRandomSecrets } from "./vars-file.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return fallback;
  return args[i].includes("=") ? args[i].slice(name.length + 1) : args[i + 1];
};
const vars = {};
args.forEach((a, i) => {
  if (a !== "--var") return;
  const [key, ...value] = (args[i + 1] ?? "").split(":");
  if (!key || value.length === 0) throw new Error(`--var needs KEY:VALUE, got "${args[i + 1]}"`);
  vars[key] = value.join(":");
});
const port = Number(flag("--port", "8787"));
const host = flag("--ip", "127.0.0.1");
const persist = resolve(ROOT, flag("--persist-to", ".wrangler/start-state"));
// The V8 inspector (DevTools protocol) of the worker, for profiling: off unless asked for.
const inspectorPort = flag("--inspector-port", undefined);

const secretsFile = resolve(ROOT, flag("--secrets-file", ".start.vars"));

/**
 * The secrets: the file's (made with random values on the first run: a fresh clone never
 * shares its secrets with anyone), then --var flags. The published example values are
 * refused whatever the address: a reverse proxy in front reaches a loopback address too.
 */
function readSecrets() {
  if (writeRandomSecrets(secretsFile, "# Made by npm start on its first run. Never commit this file.")) {
    console.log(`Generated random ${SECRETS.join(", ")} in ${secretsFile} (read them there; keep the file private).`);
  }
  const secrets = readVars(secretsFile);
  const known = exampleSecrets({ ...secrets, ...vars }, resolve(ROOT, ".dev.vars.example"));
  if (known.length > 0) {
    console.error(
      `npm start will not run with the published example value of ${known.join(", ")} (.dev.vars.example): put your own in ${secretsFile}, or delete that file to have new ones made.`,
    );
    process.exit(1);
  }
  return secrets;
}
const secrets = readSecrets();

execFileSync(process.execPath, [resolve(ROOT, "web/build.mjs")], { stdio: "inherit", cwd: ROOT });
const scriptPath = resolve(ROOT, "dist/worker/index.js");
const bundle = await build({
  entryPoints: [resolve(ROOT, "worker/index.ts")],
  outfile: scriptPath,
  write: false,
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["browser", "module", "main"],
  external: ["cloudflare:*", "node:*"],
  loader: { ".min.js": "text" },
  logLevel: "warning",
});
// Written beside its place and renamed over it: atomic, so a second `npm start` starting at
// the same moment (parallel tests do) never loads a bundle this one is half-way through writing.
mkdirSync(dirname(scriptPath), { recursive: true });
writeFileSync(`${scriptPath}.${process.pid}`, bundle.outputFiles[0].contents);
renameSync(`${scriptPath}.${process.pid}`, scriptPath);

const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve(ROOT, "wrangler.toml"));
const { assets, ...edgeOptions } = workerOptions;
// Lets this process (and only it) run the cron job through POST /__cron.
const cronToken = randomBytes(24).toString("hex");
// Wrangler describes the worker in Miniflare 4's option shape and converts it for Miniflare 5
// with this same function; the options below stay in that shape too.
const mf = new Miniflare(
  convertV4MiniflareOptions({
    workers: [
      {
        ...edgeOptions,
        name: "edge-ticker",
        modules: true,
        scriptPath,
        modulesRules: undefined,
        // SELF_HOSTED: not Cloudflare's edge, so the worker trusts no client header for addresses.
        bindings: {
          ...workerOptions.bindings,
          ...secrets,
          ...vars,
          CRON_TRIGGER_TOKEN: cronToken,
          SELF_HOSTED: "true",
        },
        // Clients reach the worker itself on a direct socket, and it hands what it has no route
        // for to the static files (ASSETS). Miniflare's own entry and asset proxy (on a spare
        // port, used for the cron below) would otherwise sit in front and negotiate WebSocket
        // compression whatever the worker's compatibility flags say.
        serviceBindings: { ASSETS: "edge-ticker-static" },
        unsafeDirectSockets: [{ host, port }],
      },
      {
        name: "edge-ticker-static",
        modules: true,
        script: "export default { fetch: () => new Response(null, { status: 404 }) };",
        compatibilityDate: workerOptions.compatibilityDate,
        assets,
      },
    ],
    host,
    port: 0,
    ...(inspectorPort ? { inspectorPort: Number(inspectorPort) } : {}),
    resourcePersistencePath: persist,
    // No Cloudflare look-up of request.cf: a fixed location (one region locally).
    cf: { colo: "LOCAL", continent: "NA", country: "US", longitude: "-77.0" },
    log: new Log(LogLevel.WARN),
    // The worker's own log lines (one JSON object each) go to our stdout/stderr as they are.
    handleStructuredLogs({ level, message }) {
      (level === "error" || level === "warn" ? process.stderr : process.stdout).write(`${message}\n`);
    },
  }),
);
const url = await mf.ready;
console.log(`Ready on http://${host}:${port} (bare workerd, state in ${persist})`);
// npm's pid is the one a user sees, and SIGUSR2 would stop npm rather than reach this process.
console.log(`Cron job every minute; run it now with: kill -USR2 ${process.pid}`);

// Cron triggers do not fire outside Cloudflare: run the cron job each minute, and at once on
// SIGUSR2 (`kill -USR2 <pid>`). A plain request: Miniflare's getWorker() proxy died with
// ECONNRESET under 5,000 sockets, and its /cdn-cgi/handler/scheduled fails next to assets.
const runCron = () =>
  mf
    .dispatchFetch(new URL("/__cron", url), { method: "POST", headers: { Authorization: `Bearer ${cronToken}` } })
    .then(async (res) => {
      await res.arrayBuffer();
      if (!res.ok) console.error(`scheduled handler answered ${res.status}`);
    })
    .catch((err) => console.error("scheduled failed:", err));
const cron = setInterval(runCron, 60_000);
process.on("SIGUSR2", runCron);

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(cron);
    await mf.dispose().catch(() => undefined);
    process.exit(0);
  });
}
