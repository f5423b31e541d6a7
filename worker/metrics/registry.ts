/**
 * In-memory metrics of one object: counters, gauges and histograms with fixed buckets,
 * each with a fixed list of label names and a bounded number of label sets. Pure (no I/O,
 * no clock): the object counts, and answers `snapshot()` over RPC; the worker merges the
 * snapshots of every object and renders them (exposition.ts). Counters start at 0 with
 * the object, as Prometheus expects of a restarted process (`rate()` handles the reset).
 *
 * The hot path holds a child (one label set, resolved once) and adds to a number field:
 * no map look-up, string building or allocation per count.
 */

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** Observations per bucket (not cumulative), one per bound, then one above the last. */
  counts: number[];
  sum: number;
  count: number;
}

export type Family =
  | { name: string; help: string; type: "counter" | "gauge"; samples: Sample[] }
  | { name: string; help: string; type: "histogram"; bounds: number[]; samples: HistogramSample[] };

/** What one object answers to `metrics()`: plain data, structured-clone safe. */
export interface MetricsSnapshot {
  /** When the object's counters started (epoch ms): a newer value means they restarted at 0. */
  startedAt: number;
  families: Family[];
}

/** Label sets kept per family at most; further ones are counted under `other` (never dropped silently). */
export const MAX_SERIES = 64;
const OTHER = "other";

export interface CounterChild {
  value: number;
  inc(n?: number): void;
}

export interface HistogramChild {
  observe(value: number): void;
}

abstract class LabelledFamily<Child> {
  protected readonly children = new Map<string, { labels: Labels; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** The child of one label set (made on first use); past MAX_SERIES sets, the shared `other` one. */
  labels(labels: Labels = {}): Child {
    const key = this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    const known = this.children.get(key);
    if (known) return known.child;
    if (this.children.size >= MAX_SERIES && !this.labelNames.every((n) => labels[n] === OTHER)) {
      return this.labels(Object.fromEntries(this.labelNames.map((n) => [n, OTHER])));
    }
    const picked = Object.fromEntries(this.labelNames.map((n) => [n, labels[n] ?? ""]));
    const child = this.make();
    this.children.set(key, { labels: picked, child });
    return child;
  }

  protected abstract make(): Child;
}

export class Counter extends LabelledFamily<CounterChild> {
  protected make(): CounterChild {
    return {
      value: 0,
      inc(n = 1) {
        this.value += n;
      },
    };
  }

  inc(labels: Labels, n = 1): void {
    this.labels(labels).value += n;
  }

  snapshot(): Family {
    return {
      name: this.name,
      help: this.help,
      type: "counter",
      samples: [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value })),
    };
  }
}

class HistogramData implements HistogramChild {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class Histogram extends LabelledFamily<HistogramData> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
    for (let i = 1; i < bounds.length; i++)
      if (!(bounds[i]! > bounds[i - 1]!)) throw new Error(`${name}: bucket bounds must increase`);
  }

  protected make(): HistogramData {
    return new HistogramData(this.bounds);
  }

  snapshot(): Family {
    return {
      name: this.name,
      help: this.help,
      type: "histogram",
      bounds: [...this.bounds],
      samples: [...this.children.values()].map(({ labels, child }) => ({
        labels,
        counts: [...child.counts],
        sum: child.sum,
        count: child.count,
      })),
    };
  }
}

/** A gauge read when a snapshot is taken (connections held, budget left): nothing to keep up to date on the hot path. */
interface Gauge {
  name: string;
  help: string;
  read: () => Sample[];
}

/** The metrics of one object. */
export class Registry {
  private readonly counters: Counter[] = [];
  private readonly histograms: Histogram[] = [];
  private readonly gauges: Gauge[] = [];
  private readonly names = new Set<string>();

  constructor(readonly startedAt: number) {}

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    this.claim(name);
    if (!name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
    const c = new Counter(name, help, labelNames);
    this.counters.push(c);
    return c;
  }

  histogram(name: string, help: string, bounds: readonly number[], labelNames: readonly string[] = []): Histogram {
    this.claim(name);
    const h = new Histogram(name, help, labelNames, bounds);
    this.histograms.push(h);
    return h;
  }

  /** A gauge whose samples `read` gives at snapshot time (each label set at most once; bounded by the caller). */
  gauge(name: string, help: string, read: () => Sample[] | number): void {
    this.claim(name);
    this.gauges.push({
      name,
      help,
      read: () => {
        const v = read();
        return typeof v === "number" ? [{ labels: {}, value: v }] : v.slice(0, MAX_SERIES);
      },
    });
  }

  snapshot(): MetricsSnapshot {
    return {
      startedAt: this.startedAt,
      families: [
        ...this.gauges.map((g): Family => ({ name: g.name, help: g.help, type: "gauge", samples: g.read() })),
        ...this.counters.map((c) => c.snapshot()),
        ...this.histograms.map((h) => h.snapshot()),
      ],
    };
  }

  private claim(name: string): void {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad metric name ${name}`);
    if (this.names.has(name)) throw new Error(`metric ${name} registered twice`);
    this.names.add(name);
  }
}

/** Delivery lag buckets (seconds): a local hub answers in milliseconds, a slow feed round in seconds. */
export const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
