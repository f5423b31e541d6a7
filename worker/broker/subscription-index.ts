import type { Subscription } from "./session-state";
import type { StompSession } from "./stomp-session";
import { messageHead, renderMessage, type TickFrame } from "./tick-frame";

interface Delivery {
  session: StompSession;
  head: string;
  needsAck: boolean;
}

/** The subscriptions held by one hub, indexed by symbol for fan-out. In memory only: rebuilt from session state on wake. */
export class SubscriptionIndex {
  private readonly bySymbol = new Map<string, Set<Delivery>>();
  private readonly bySession = new Map<StompSession, Map<string, { symbol: string; delivery: Delivery }>>();

  add(session: StompSession, sub: Subscription): Delivery {
    const delivery: Delivery = {
      session,
      head: messageHead(session.version, sub.id),
      needsAck: session.version === "1.2" && sub.ack !== "auto",
    };
    let set = this.bySymbol.get(sub.symbol);
    if (!set) this.bySymbol.set(sub.symbol, (set = new Set()));
    set.add(delivery);
    let own = this.bySession.get(session);
    if (!own) this.bySession.set(session, (own = new Map()));
    own.set(sub.id, { symbol: sub.symbol, delivery });
    return delivery;
  }

  remove(session: StompSession, subId: string): void {
    const own = this.bySession.get(session);
    const entry = own?.get(subId);
    if (!own || !entry) return;
    own.delete(subId);
    this.unlink(entry.symbol, entry.delivery);
  }

  removeSession(session: StompSession): void {
    const own = this.bySession.get(session);
    if (!own) return;
    for (const { symbol, delivery } of own.values()) this.unlink(symbol, delivery);
    this.bySession.delete(session);
  }

  /** Symbols the session subscribes to (each once). */
  symbolsOf(session: StompSession): Set<string> {
    return new Set([...(this.bySession.get(session)?.values() ?? [])].map((e) => e.symbol));
  }

  count(symbol: string): number {
    return this.bySymbol.get(symbol)?.size ?? 0;
  }

  /** Sends `frame` to one subscription (the snapshot). */
  sendTo(delivery: Delivery, frame: TickFrame): void {
    delivery.session.transport.queue(renderMessage(delivery.head, delivery.needsAck, frame));
  }

  /** Sends `frame` to every subscription of its symbol; returns how many were sent. */
  fanOut(frame: TickFrame): number {
    const set = this.bySymbol.get(frame.symbol);
    if (!set) return 0;
    for (const d of set) d.session.transport.queue(renderMessage(d.head, d.needsAck, frame));
    return set.size;
  }

  private unlink(symbol: string, delivery: Delivery): void {
    const set = this.bySymbol.get(symbol);
    if (!set) return;
    set.delete(delivery);
    if (set.size === 0) this.bySymbol.delete(symbol);
  }
}
