import { entryOf } from "../multimap";
import type { Marker } from "../protocol/compact/entry";
import { batchMessage, type CompactState, compactState, compactText } from "./compact-frames";
import { type Batch, type Conflation, conflationKey, type Render, type Subscription } from "./session-state";
import type { StompSession } from "./stomp-session";
import { messageHead, renderMessage, type StreamFrame } from "./stream-frame";
import { STREAMS, streamKey } from "./streams";

export interface Delivery {
  session: StompSession;
  /** What the connection's write path knows of the subscription (made once, not per frame); `everyMs`: `x-throttle-ms`, the newest MESSAGE per this many ms. */
  pacing: Conflation;
  /** Its next plain MESSAGE. */
  plain: Outgoing;
  /** A compact subscription, or a batch's symbol: what its next entry depends on. */
  compact?: Compact;
}

/**
 * A delivery's next MESSAGE in the write path: the frame it was last queued (with its marker),
 * the frame it was sent last, and one render function made once, so queueing allocates
 * nothing. Conflation keeps only the newest queued MESSAGE of a subscription, so rendering
 * the newest queued frame is rendering the one that leaves; a gap it stands for (the hub's,
 * the outbound budget's, or both) is counted whole from the frame sent last.
 */
interface Outgoing {
  pending?: StreamFrame;
  marker?: Marker;
  last?: StreamFrame;
  render: Render;
}

/** A compact delivery: the same, its entry made against the frame it received last (`g`: the gap, whole). */
type Compact = Outgoing & CompactState;

/** The subscriptions held by one hub, indexed by stream for fan-out. In memory only: rebuilt from session state on wake. */
export class SubscriptionIndex {
  private readonly byStream = new Map<string, Set<Delivery>>();
  private readonly bySession = new Map<StompSession, Map<string, { key: string; delivery: Delivery }>>();
  /** Each session's batch subscriptions by id: their symbols share one MESSAGE per round. */
  private readonly batches = new Map<StompSession, Map<string, Batch>>();

  add(session: StompSession, sub: Subscription): Delivery {
    const head = messageHead(session.version, sub.id);
    const pacing: Conflation = { key: conflationKey(sub), everyMs: sub.throttleMs };
    if (sub.form === "batch") pacing.batch = this.batchOf(session, sub.id, head);
    const needsAck = session.version === "1.2" && sub.ack !== "auto";
    const plain = outgoing({}, (frame, marker, out) => {
      out.last = frame;
      return renderMessage(head, needsAck, frame, markerHeaders(marker));
    });
    const delivery: Delivery = { session, pacing, plain };
    if (sub.form && STREAMS[sub.stream].compact)
      delivery.compact = outgoing(compactState(sub.form === "batch", sub.ack, session.version), (frame, marker, out) =>
        compactText(frame, out, head, marker),
      );
    const key = streamKey({ kind: sub.stream, symbol: sub.symbol });
    entryOf(this.byStream, key, () => new Set()).add(delivery);
    entryOf(this.bySession, session, () => new Map()).set(pacing.key, { key, delivery });
    return delivery;
  }

  remove(session: StompSession, sub: Subscription): void {
    const own = this.bySession.get(session);
    const entry = own?.get(conflationKey(sub));
    if (!own || !entry) return;
    own.delete(conflationKey(sub));
    // A MESSAGE held back by conflation must not follow an UNSUBSCRIBE.
    session.transport.discard(entry.delivery.pacing);
    if (sub.form === "batch" && ![...own.values()].some((e) => e.delivery.pacing.batch === entry.delivery.pacing.batch))
      this.batches.get(session)?.delete(sub.id);
    this.unlink(entry.key, entry.delivery);
  }

  removeSession(session: StompSession): void {
    const own = this.bySession.get(session);
    if (!own) return;
    for (const { key, delivery } of own.values()) this.unlink(key, delivery);
    this.bySession.delete(session);
    this.batches.delete(session);
  }

  count(key: string): number {
    return this.byStream.get(key)?.size ?? 0;
  }

  /** Sends `frame` to one subscription (its snapshot or replay); `marker` says it is replayed or follows a gap. */
  sendTo(delivery: Delivery, frame: StreamFrame, marker?: Marker): void {
    const out = formOf(delivery, frame);
    hold(out, frame, marker);
    delivery.session.transport.queue(out.render, delivery.pacing);
  }

  /** Sends `frame` to every subscription of its stream (throttled ones through conflation); `marker`: it follows a gap. Returns how many. */
  fanOut(frame: StreamFrame, marker?: Marker): number {
    const set = this.byStream.get(frame.key);
    if (!set) return 0;
    for (const d of set) {
      // Rendered as it leaves: most ticks of a throttled subscription are replaced before they are sent.
      const out = formOf(d, frame);
      hold(out, frame, marker);
      d.session.transport.queue(out.render, d.pacing);
    }
    return set.size;
  }

  private batchOf(session: StompSession, id: string, head: string): Batch {
    const own = entryOf(this.batches, session, () => new Map<string, Batch>());
    return entryOf(own, id, () => ({ close: (entries) => batchMessage(head, entries) }));
  }

  private unlink(key: string, delivery: Delivery): void {
    const set = this.byStream.get(key);
    if (!set) return;
    set.delete(delivery);
    if (set.size === 0) this.byStream.delete(key);
  }
}

/**
 * `fields` with the render of their pending frame: as `write` makes it, marked with the gap it
 * stands for (whole from the frame sent last when the outbound budget replaced some before it).
 */
function outgoing<S extends object>(
  fields: S,
  write: (frame: StreamFrame, marker: Marker | undefined, out: S & Outgoing) => string,
): S & Outgoing {
  const out: S & Outgoing = Object.assign(fields, {
    render: (skipped: number) => {
      const frame = out.pending!;
      const marker = skipped > 0 ? skippedGap(frame, out.last) : out.marker;
      out.pending = out.marker = undefined;
      return write(frame, marker, out);
    },
  });
  return out;
}

/** Which form `frame` leaves `d` in. */
function formOf(d: Delivery, frame: StreamFrame): Outgoing {
  return d.compact && frame.compact ? d.compact : d.plain;
}

/** `frame` is the one `c` sends next; a gap in one it replaces before that is still a gap. */
function hold(c: Outgoing, frame: StreamFrame, marker: Marker | undefined): void {
  if (!(c.pending && c.marker?.kind === "gap")) c.marker = marker;
  c.pending = frame;
}

/**
 * The gap a MESSAGE stands for when the connection's outbound budget replaced earlier ones:
 * whole, with the count of messages between the last one sent and it (in one epoch).
 */
function skippedGap(frame: StreamFrame, last: StreamFrame | undefined): Marker {
  return last && last.epoch === frame.epoch ? { kind: "gap", missed: frame.seq - last.seq - 1 } : { kind: "gap" };
}

/** A plain MESSAGE's marker headers (`x-replay`, `x-gap`, `x-gap-count`). */
function markerHeaders(marker: Marker | undefined): string {
  if (!marker) return "";
  switch (marker.kind) {
    case "replay":
      return "x-replay:true\n";
    case "gap":
      return `x-gap:true\n${marker.missed === undefined ? "" : `x-gap-count:${marker.missed}\n`}`;
  }
}
