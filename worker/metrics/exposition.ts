import { appendTo } from "../multimap";
import type { Family, Labels, MetricsSnapshot } from "./registry";

/** One object's answer to a scrape: its snapshot, or why there is none (it did not answer in time, or failed). */
export interface ObjectReport {
  /** The object's name (`hub:enam:0`, `feed:0`): the `object` label of its series. */
  object: string;
  /** What it is (`hub`, `scheduler`, ...): the `kind` label of `edge_ticker_up`. */
  kind: string;
  snapshot?: MetricsSnapshot;
  error?: string;
}

export const PREFIX = "edge_ticker_";

/**
 * The Prometheus text exposition (format 0.0.4) of every object's figures, each series
 * labelled by its object. `edge_ticker_up{object,kind}` is 1 for an object that answered
 * and 0 for one that did not: its counters are then absent (not zero), as Prometheus
 * treats a target that is down. `edge_ticker_start_time_seconds` tells when each object's
 * counters started, so a restart (counters back at 0) is visible.
 */
export function renderExposition(reports: readonly ObjectReport[]): string {
  const out: string[] = [];
  header(out, `${PREFIX}up`, "Whether the object answered this scrape (1) or not (0).", "gauge");
  for (const r of reports) out.push(line(`${PREFIX}up`, { object: r.object, kind: r.kind }, r.snapshot ? 1 : 0));
  const answered = reports.filter((r): r is ObjectReport & { snapshot: MetricsSnapshot } => r.snapshot !== undefined);
  header(
    out,
    `${PREFIX}start_time_seconds`,
    "When the object's counters started (a restart sets them back to 0).",
    "gauge",
  );
  for (const r of answered)
    out.push(line(`${PREFIX}start_time_seconds`, { object: r.object }, r.snapshot.startedAt / 1000));
  for (const [name, members] of byFamily(answered)) {
    const first = members[0]!.family;
    header(out, name, first.help, first.type);
    for (const { object, family } of members) {
      if (family.type !== first.type) continue; // the same name with another type would make the exposition invalid
      if (family.type === "histogram") {
        for (const s of family.samples) {
          let cumulative = 0;
          family.bounds.forEach((bound, i) => {
            cumulative += s.counts[i] ?? 0;
            out.push(line(`${name}_bucket`, { object, ...s.labels, le: formatNumber(bound) }, cumulative));
          });
          out.push(line(`${name}_bucket`, { object, ...s.labels, le: "+Inf" }, s.count));
          out.push(line(`${name}_sum`, { object, ...s.labels }, s.sum));
          out.push(line(`${name}_count`, { object, ...s.labels }, s.count));
        }
      } else {
        for (const s of family.samples) out.push(line(name, { object, ...s.labels }, s.value));
      }
    }
  }
  return `${out.join("\n")}\n`;
}

/** Families by name, in first-seen order, with the object each came from. */
function byFamily(
  reports: ReadonlyArray<{ object: string; snapshot: MetricsSnapshot }>,
): Map<string, Array<{ object: string; family: Family }>> {
  const families = new Map<string, Array<{ object: string; family: Family }>>();
  for (const { object, snapshot } of reports) {
    for (const family of snapshot.families) {
      appendTo(families, family.name, { object, family });
    }
  }
  return families;
}

function header(out: string[], name: string, help: string, type: string): void {
  out.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
  out.push(`# TYPE ${name} ${type}`);
}

function line(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatNumber(value)}`;
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

/** The sum of one family's samples over every object, optionally only those whose labels match `where`. */
export function total(reports: readonly ObjectReport[], name: string, where: Labels = {}): number {
  let sum = 0;
  for (const r of reports) {
    for (const f of r.snapshot?.families ?? []) {
      if (f.name !== name) continue;
      for (const s of f.samples) {
        if (!Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
        sum += "value" in s ? s.value : s.count;
      }
    }
  }
  return sum;
}
