import { readdirSync, readFileSync } from "node:fs";

/** What /proc says about one process. */
export interface ProcSample {
  pid: number;
  name: string;
  /** User + system CPU time, in microseconds. */
  cpuUs: number;
  rssBytes: number;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on

function sample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the name.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
    return { pid, name, cpuUs: (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND, rssBytes: rss };
  } catch {
    return undefined; // ended while sampling
  }
}

/** Every process of a process group (a server and its children), optionally by name. */
export function groupProcesses(pgid: number, name?: string): ProcSample[] {
  const out: ProcSample[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue; // pgrp
    } catch {
      continue;
    }
    const s = sample(Number(entry));
    if (s && (name === undefined || s.name === name)) out.push(s);
  }
  return out;
}

/** Summed CPU (µs) and RSS (bytes) of a group's processes named `name`. */
export function usage(pgid: number, name?: string): { cpuUs: number; rssBytes: number } {
  const procs = groupProcesses(pgid, name);
  return { cpuUs: procs.reduce((n, p) => n + p.cpuUs, 0), rssBytes: procs.reduce((n, p) => n + p.rssBytes, 0) };
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;
