import { entryOf } from "../multimap";
import type { Conflation, Subscription } from "./session-state";
import type { StompSession } from "./stomp-session";
import { messageHead, renderMessage, type StreamFrame } from "./stream-frame";
import { streamKey } from "./streams";

export interface Delivery {
  session: StompSession;
  head: string;
  needsAck: boolean;
  /** What the connection's write path knows of the subscription (made once, not per frame); `everyMs`: `x-throttle-ms`, the newest MESSAGE per this many ms. */
  pacing: Conflation;
}

/** The subscriptions held by one hub, indexed by stream for fan-out. In memory only: rebuilt from session state on wake. */
export class SubscriptionIndex {
  private readonly byStream = new Map<string, Set<Delivery>>();
  private readonly bySession = new Map<StompSession, Map<string, { key: string; delivery: Delivery }>>();

  add(session: StompSession, sub: Subscription): Delivery {
    const delivery: Delivery = {
      session,
      head: messageHead(session.version, sub.id),
      needsAck: session.version === "1.2" && sub.ack !== "auto",
      pacing: { key: sub.id, everyMs: sub.throttleMs },
    };
    const key = streamKey({ kind: sub.stream, symbol: sub.symbol });
    entryOf(this.byStream, key, () => new Set()).add(delivery);
    entryOf(this.bySession, session, () => new Map()).set(sub.id, { key, delivery });
    return delivery;
  }

  remove(session: StompSession, subId: string): void {
    const own = this.bySession.get(session);
    const entry = own?.get(subId);
    if (!own || !entry) return;
    own.delete(subId);
    // A MESSAGE held back by conflation must not follow an UNSUBSCRIBE.
    session.transport.discard(subId);
    this.unlink(entry.key, entry.delivery);
  }

  removeSession(session: StompSession): void {
    const own = this.bySession.get(session);
    if (!own) return;
    for (const { key, delivery } of own.values()) this.unlink(key, delivery);
    this.bySession.delete(session);
  }

  count(key: string): number {
    return this.byStream.get(key)?.size ?? 0;
  }

  /** Sends `frame` to one subscription (its snapshot or replay); `extra` adds headers such as `x-gap`. */
  sendTo(delivery: Delivery, frame: StreamFrame, extra = ""): void {
    delivery.session.transport.queue(renderMessage(delivery.head, delivery.needsAck, frame, extra), delivery.pacing);
  }

  /** Sends `frame` (with `extra` headers) to every subscription of its stream (throttled ones through conflation); returns how many. */
  fanOut(frame: StreamFrame, extra = ""): number {
    const set = this.byStream.get(frame.key);
    if (!set) return 0;
    for (const d of set) {
      if (d.pacing.everyMs === undefined)
        d.session.transport.queue(renderMessage(d.head, d.needsAck, frame, extra), d.pacing);
      // Most ticks of a throttled subscription are replaced before they are sent: render only the one that is.
      else d.session.transport.queue(() => renderMessage(d.head, d.needsAck, frame, extra), d.pacing);
    }
    return set.size;
  }

  private unlink(key: string, delivery: Delivery): void {
    const set = this.byStream.get(key);
    if (!set) return;
    set.delete(delivery);
    if (set.size === 0) this.byStream.delete(key);
  }
}
