// Loaded into wrangler's own process by `npm run dev` (node --import): hands .dev.vars to
// `wrangler dev` as --var flags. wrangler.toml declares `[secrets] required = []` (so that
// `wrangler types` never reads a local .dev.vars), and wrangler 4.164 then loads no key of
// .dev.vars at all; --var values it always takes (hidden in its output). They go into this
// process's argv here rather than on the command line, where any local user could read
// them (`ps`). Flags given on the command line still win: they come after these.
import { readVars } from "./vars-file.mjs";

const path = process.env.EDGE_TICKER_DEV_VARS;
if (path) {
  const flags = Object.entries(readVars(path)).flatMap(([key, value]) => ["--var", `${key}:${value}`]);
  const dev = process.argv.indexOf("dev");
  if (dev > 0) process.argv.splice(dev + 1, 0, ...flags);
}
