// KEY=VALUE files (.dev.vars, .start.vars, .dev.vars.example): read as wrangler reads
// .dev.vars, written with fresh random secrets for `npm start`. Plain Node, no dependencies.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** The secrets every Edge Ticker holds; `npm start` makes each up on its first run. */
export const SECRETS = ["PUBLISH_TOKEN", "AUTH_JWT_SECRET", "METRICS_TOKEN"];

/** KEY=VALUE lines (comments and blank lines skipped, surrounding quotes removed); {} if the file is missing. */
export function readVars(path) {
  if (!existsSync(path)) return {};
  const out = {};
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
  }
  return out;
}

/** Writes `path` with a random value for each secret, readable by its owner only; false if it exists already. */
export function writeRandomSecrets(path, header) {
  const lines = [header, ...SECRETS.map((name) => `${name}=${randomBytes(32).toString("base64url")}`)];
  try {
    writeFileSync(path, `${lines.join("\n")}\n`, { flag: "wx", mode: 0o600 });
    return true;
  } catch (err) {
    if (err.code === "EEXIST") return false;
    throw err;
  }
}

/** Secrets among `vars` that hold a value published in `examplePath` (anyone can read those). */
export function exampleSecrets(vars, examplePath) {
  const published = new Set(Object.values(readVars(examplePath)).filter(Boolean));
  return SECRETS.filter((name) => vars[name] && published.has(vars[name]));
}

/** Whether `host` only reaches this machine. */
export function isLoopback(host) {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
