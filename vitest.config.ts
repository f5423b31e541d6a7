import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

/**
 * End-to-end files that pin the runtime of every server they start (`runtime: "workerd"`) run
 * once; the others run on both runtimes: `wrangler dev` (the `e2e` project) and bare workerd
 * (`e2e-workerd`, as `npm start` runs it).
 */
const E2E = "test/e2e";
const chooseTheirRuntime = readdirSync(E2E)
  .filter((f) => f.endsWith(".test.ts") && /runtime: "(workerd|wrangler)"/.test(readFileSync(`${E2E}/${f}`, "utf8")))
  .map((f) => `${E2E}/${f}`);

/**
 * Most of an end-to-end file's time is waiting (servers starting, ticks, heart-beats, minute
 * bars), so files run side by side; the two that measure memory and latency under a flood
 * or an attack run alone afterwards, so nothing else skews their figures. (Files whose bounds
 * are about behaviour within seconds, such as viewer counts or ordering across evictions,
 * run side by side: they passed with six heavy files beside them.)
 */
const ALONE = ["test/e2e/abuse.test.ts", "test/e2e/bars-flood.test.ts"];
/**
 * The provider conformance suite judges the worker's logic against fake providers, which is the
 * same on both runtimes; it runs once, on bare workerd (`npm start`), and most of its time is
 * outages and silences played out in real time. Its project's name sorts it ahead of the e2e
 * projects (vitest orders a group's files by project name): its files are the longest, and
 * started last they would end the run alone.
 */
const CONFORMANCE = `${E2E}/conformance-*.test.ts`;
/**
 * Files waiting side by side: the servers they start mostly wait too. At six, the whole run
 * used about a third of 2 cores (user + sys over wall time); five took 425 s, six 369-392 s.
 */
const PARALLEL = Number(process.env.E2E_PARALLEL ?? 6);

const e2e = { environment: "node", testTimeout: 60_000, hookTimeout: 90_000 } as const;

export default defineConfig({
  test: {
    projects: [
      {
        // Pure and CPU-bound: every core (vitest's default leaves one idle, half of a 2-core machine),
        // and one module graph per worker; the setup file puts back what a file changes globally.
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          maxWorkers: availableParallelism(),
          isolate: false,
          setupFiles: ["test/support/unit-isolation.ts"],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...e2e,
          name: "e2e",
          include: [`${E2E}/**/*.test.ts`],
          exclude: [...ALONE, CONFORMANCE],
          env: { E2E_RUNTIME: "wrangler" },
          maxWorkers: PARALLEL,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...e2e,
          name: "conformance",
          include: [CONFORMANCE],
          env: { E2E_RUNTIME: "workerd" },
          maxWorkers: PARALLEL,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...e2e,
          name: "e2e-workerd",
          include: [`${E2E}/**/*.test.ts`],
          exclude: [...ALONE, ...chooseTheirRuntime, CONFORMANCE],
          env: { E2E_RUNTIME: "workerd" },
          maxWorkers: PARALLEL,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...e2e,
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          maxWorkers: PARALLEL,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: { ...e2e, name: "alone", include: ALONE, maxWorkers: 1, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
