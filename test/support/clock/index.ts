import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

/**
 * A shifted wall clock for the worker: workerd runs with `clock-shift.c` preloaded, its
 * `Date.now()` then reads real time plus a fixed shift, while timers keep their real pace.
 * The fakes stamp their trades with the same shifted clock (`ShiftedClock.now`), so the
 * worker and the providers agree on what time it is: inside a regular New York session,
 * on a chosen weekday, whatever day the tests run on.
 */
const ROOT = resolve(import.meta.dirname, "../../..");
const SOURCE = join(import.meta.dirname, "clock-shift.c");
const OUT_DIR = join(ROOT, "node_modules/.cache/edge-ticker-clock");

export interface ShiftedClock {
  /** Milliseconds added to the real clock. */
  readonly shiftMs: number;
  /** The shifted time now (epoch ms). */
  now(): number;
}

/** A clock that reads `at` (epoch ms) now and advances in real time from there. */
export function clockStartingAt(at: number): ShiftedClock {
  const shiftMs = at - Date.now();
  return { shiftMs, now: () => Date.now() + shiftMs };
}

/** The real clock (no shift). */
export const REAL_CLOCK: ShiftedClock = { shiftMs: 0, now: () => Date.now() };

/** Builds the preload library once (gcc) and a wrapper for workerd that loads it; returns the wrapper's path. */
export function shiftedWorkerd(): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const library = join(OUT_DIR, "clock-shift.so");
  if (!existsSync(library) || statSync(library).mtimeMs < statSync(SOURCE).mtimeMs) {
    try {
      execFileSync("gcc", ["-O2", "-shared", "-fPIC", "-o", library, SOURCE, "-ldl"], { stdio: "pipe" });
    } catch (err) {
      throw new Error(`building the clock shift needs a C compiler (apt-get install gcc): ${String(err)}`);
    }
  }
  const require = createRequire(join(ROOT, "node_modules/miniflare/package.json"));
  const workerd = resolve(dirname(require.resolve("workerd/package.json")), "bin/workerd");
  const wrapper = join(OUT_DIR, "workerd");
  writeFileSync(wrapper, `#!/bin/sh\nLD_PRELOAD="${library}" exec "${workerd}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** Environment for a server process whose workerd reads `clock`. */
export function clockEnv(clock: ShiftedClock): Record<string, string> {
  if (clock.shiftMs === 0) return {};
  return { MINIFLARE_WORKERD_PATH: shiftedWorkerd(), CLOCK_SHIFT_MS: String(Math.round(clock.shiftMs)) };
}
