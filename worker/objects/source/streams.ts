import type { StreamFrame } from "../../broker/stream-frame";
import { STREAM_KINDS, STREAMS, type StreamKind, TICKS } from "../../broker/streams";
import { Holders, sqlHolderStore } from "../../fanout/holders";
import { treeShape } from "../../fanout/tree";
import { type Deliver, TreeSender } from "../../fanout/tree-sender";
import { log } from "../../log";

/** At most this many frames answer one range request (gap filling, resuming). */
const MAX_RANGE = 10_000;

/** What one kind of stream does in its source (the table in broker/streams.ts says what it is). */
export interface StreamBehaviour {
  /** What a hub that starts holding the stream gets first (nothing while a delayed stream has released none). */
  snapshot(): StreamFrame | StreamFrame[] | undefined;
  /** Frames with `after < seq < before`, oldest first, at most `limit`: a hub fills a gap, or a client resumes. */
  range(after: number, before: number, limit: number): StreamFrame[];
  /** The hubs holding it changed (a part starts or stops its timers). */
  held?(holders: Holders): void;
}

interface SourceStream {
  behaviour: StreamBehaviour;
  holders: Holders;
  out: TreeSender;
}

/**
 * A source's streams, one per kind: the hubs holding each (kept in the source's SQLite),
 * the fan-out tree frames leave along, and the kind's behaviour. Attaching, counting, range
 * reads and whether the symbol is active are look-ups in the table, not if-chains.
 */
export class SourceStreams {
  private readonly streams: Record<StreamKind, SourceStream>;

  constructor(
    sql: SqlStorage,
    symbol: string,
    degree: number,
    deliver: Deliver,
    /** A stream's subscription total changed (viewer counts follow). */
    private readonly onCount: () => void,
    behaviours: Readonly<Record<StreamKind, StreamBehaviour>>,
  ) {
    const stream = (kind: StreamKind): SourceStream => ({
      behaviour: behaviours[kind],
      holders: new Holders(sqlHolderStore(sql, STREAMS[kind].holdersTable), symbol, degree, (shape) =>
        log("fanout_tree", { symbol, ...(kind === TICKS.live ? {} : { stream: kind }), ...shape }),
      ),
      out: new TreeSender(deliver),
    });
    this.streams = Object.fromEntries(STREAM_KINDS.map((k) => [k, stream(k)])) as Record<StreamKind, SourceStream>;
  }

  holders(kind: StreamKind): Holders {
    return this.streams[kind].holders;
  }

  /** How many hubs hold a stream, and its fan-out tree's shape (for /healthz and tests). */
  fanout(kind: StreamKind): { hubs: number; tree: ReturnType<typeof treeShape> } {
    const holders = this.streams[kind].holders;
    return { hubs: holders.size, tree: treeShape(holders.tree) };
  }

  /** Whether any hub holds the stream. */
  held(kind: StreamKind): boolean {
    return this.streams[kind].holders.size > 0;
  }

  /** Sets `hub`'s subscription count of a stream (0: it holds it no more); true when the total changed. */
  hold(kind: StreamKind, hub: string, count: number): boolean {
    const { holders, behaviour } = this.streams[kind];
    const changed = holders.set(hub, count);
    if (changed) {
      behaviour.held?.(holders);
      this.onCount();
    }
    return changed;
  }

  snapshot(kind: StreamKind): StreamFrame | StreamFrame[] | undefined {
    return this.streams[kind].behaviour.snapshot();
  }

  range(kind: StreamKind, after: number, before: number, limit = MAX_RANGE): StreamFrame[] {
    return this.streams[kind].behaviour.range(after, before, Math.min(limit, MAX_RANGE));
  }

  /** Sends a frame of one stream to every hub holding it. */
  send(kind: StreamKind, frame: StreamFrame): void {
    const { out, holders } = this.streams[kind];
    out.send(holders.tree, frame);
  }

  /** Whether any hub holds a stream that needs prices (the symbol stays in its scheduler's active set). */
  active(): boolean {
    return STREAM_KINDS.some((k) => STREAMS[k].activates && this.streams[k].holders.size > 0);
  }

  /** Subscriptions across every hub that count as the symbol's viewers. */
  viewers(): number {
    let total = 0;
    for (const k of STREAM_KINDS) if (STREAMS[k].countsViewers) total += this.streams[k].holders.total();
    return total;
  }
}
