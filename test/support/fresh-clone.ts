import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * A copy of this repository as a fresh clone has it: the files git tracks (and new ones
 * not ignored), none of the local ones (.dev.vars, .start.vars, dist, state), with the
 * installed node_modules linked in (a clone would `npm install` the same).
 */
export function freshClone(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "edge-ticker-clone-"));
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT });
  for (const file of listed.toString().split("\0")) {
    if (!file || file === "node_modules" || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Running {
  logs(): string;
  /** Resolves with the exit code once the command ends by itself. */
  exited: Promise<number | null>;
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `npm <args>` in `cwd` as a user would (its own process group, offline). */
export function runNpm(cwd: string, args: string[], env: Record<string, string> = {}): Running {
  const child: ChildProcess = spawn("npm", args, {
    cwd,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    logs: () => output,
    exited,
    async waitForLog(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (done) throw new Error(`npm ${args.join(" ")} exited before ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (done || !child.pid) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (!done) process.kill(-child.pid, "SIGKILL");
    },
  };
}
