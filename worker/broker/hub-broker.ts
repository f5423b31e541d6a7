import { parseQuoteInput, QuoteError, type Quote } from "../market/tick";
import { StompError } from "../protocol/stomp/errors";
import type { Subscription } from "./session-state";
import type { SessionBroker, StompSession } from "./stomp-session";
import { SubscriptionIndex } from "./subscription-index";
import type { TickFrame } from "./tick-frame";

/** What a hub needs from the symbol sources (RPC in production, fakes in unit tests). */
export interface Upstream {
  /** Registers this hub as a holder of `symbol` with `count` subscriptions; returns the latest frame. */
  attach(symbol: string, count: number): Promise<TickFrame>;
  /** Reports this hub's subscription count of `symbol` (0: stop delivering here). */
  interest(symbol: string, count: number): Promise<void>;
  /** The frames with `after < seq < before`, oldest first (to fill a gap in deliveries). */
  range(symbol: string, after: number, before: number): Promise<TickFrame[]>;
  publish(symbol: string, quote: Quote): Promise<void>;
  isPublisherPasscode(passcode: string): Promise<boolean>;
}

export interface HubTimers {
  /** Runs `fn` after `ms` (the interest debounce). */
  later(fn: () => void, ms: number): void;
}

/**
 * The broker logic of a connection hub, free of Durable Object APIs: the subscription
 * index, the latest frame of each held symbol, attaching to sources, ordered delivery
 * with gap filling, and subscription counts reported upstream (debounced).
 */
export class HubBroker implements SessionBroker {
  readonly index = new SubscriptionIndex();
  /** Newest frame per held symbol: the snapshot for new subscribers, the guard against replays. */
  private readonly latest = new Map<string, TickFrame>();
  /** Symbols whose source is known to deliver here. */
  private readonly attached = new Set<string>();
  private readonly attaching = new Map<string, Promise<TickFrame>>();
  /** Subscribes waiting for their snapshot: they count as interest already. */
  private readonly pendingSubs = new Map<string, number>();
  /** Per-symbol chain, so a delivery that must fill a gap holds back the ones after it. */
  private readonly deliveries = new Map<string, Promise<number>>();
  private readonly dirty = new Set<string>();
  private reportArmed = false;

  constructor(
    private readonly upstream: Upstream,
    private readonly timers: HubTimers,
    private readonly debounceMs: number,
  ) {}

  /** Subscriptions of `symbol` held here, counting those still waiting for their snapshot. */
  count(symbol: string): number {
    return this.index.count(symbol) + (this.pendingSubs.get(symbol) ?? 0);
  }

  /** Re-adds a hibernated session's subscriptions (the source still delivers to us). */
  restore(session: StompSession): void {
    for (const sub of session.state.subs) {
      this.index.add(session, sub);
      this.attached.add(sub.symbol);
    }
  }

  /** A session is gone: its subscriptions leave the index and the counts go up. */
  drop(session: StompSession): void {
    session.end();
    for (const symbol of this.index.symbolsOf(session)) this.touch(symbol);
    this.index.removeSession(session);
  }

  // SessionBroker -------------------------------------------------------------

  async subscribe(session: StompSession, sub: Subscription): Promise<void> {
    const snapshot = await this.latestFor(sub.symbol);
    if (session.closed) return;
    // Deliveries may have overtaken the snapshot while we waited: the newest goes first.
    const delivery = this.index.add(session, sub);
    this.index.sendTo(delivery, this.latest.get(sub.symbol) ?? snapshot);
    this.touch(sub.symbol);
  }

  async unsubscribe(session: StompSession, sub: Subscription): Promise<void> {
    this.index.remove(session, sub.id);
    this.touch(sub.symbol);
  }

  async publish(symbol: string, body: unknown): Promise<void> {
    let quote: Quote;
    try {
      quote = parseQuoteInput(body, symbol);
    } catch (err) {
      if (err instanceof QuoteError) throw new StompError("Invalid tick", err.message);
      throw err;
    }
    await this.upstream.publish(symbol, quote);
  }

  isPublisherPasscode(passcode: string): Promise<boolean> {
    return this.upstream.isPublisherPasscode(passcode);
  }

  // From sources and relays ---------------------------------------------------

  /**
   * Frames of one symbol, in seq order, from its source (directly or through relays).
   * Frames already seen are skipped; a jump past the next seq is filled from the
   * source's history first, so subscribers never miss or reorder a tick. Returns the
   * subscription count here (0 tells the source to stop delivering).
   */
  deliver(symbol: string, frames: readonly TickFrame[]): Promise<number> {
    const previous = this.deliveries.get(symbol);
    const run = (previous ?? Promise.resolve(0)).then(() => this.apply(symbol, frames));
    const tracked = run.finally(() => {
      if (this.deliveries.get(symbol) === tracked) this.deliveries.delete(symbol);
    });
    this.deliveries.set(symbol, tracked);
    return run;
  }

  private async apply(symbol: string, incoming: readonly TickFrame[]): Promise<number> {
    this.attached.add(symbol);
    const known = this.latest.get(symbol)?.seq;
    let frames = known === undefined ? [...incoming] : incoming.filter((f) => f.seq > known);
    const first = frames[0];
    if (known !== undefined && first && first.seq > known + 1 && this.index.count(symbol) > 0) {
      const missing = await this.upstream.range(symbol, known, first.seq).catch(() => []);
      frames = [...missing.filter((f) => f.seq > known && f.seq < first.seq), ...frames];
    }
    for (const frame of frames) {
      this.latest.set(symbol, frame);
      this.index.fanOut(frame);
    }
    const count = this.count(symbol);
    if (count === 0 && !this.attaching.has(symbol)) this.release(symbol);
    return count;
  }

  // Internals -------------------------------------------------------------------

  /** The latest frame of `symbol`: local while attached, else from its source (which then delivers here). */
  private async latestFor(symbol: string): Promise<TickFrame> {
    const known = this.latest.get(symbol);
    if (known && this.attached.has(symbol)) return known;
    this.pendingSubs.set(symbol, (this.pendingSubs.get(symbol) ?? 0) + 1);
    try {
      let attach = this.attaching.get(symbol);
      if (!attach) {
        attach = this.upstream.attach(symbol, this.count(symbol)).then((frame) => {
          this.attached.add(symbol);
          const current = this.latest.get(symbol);
          if (!current || current.seq < frame.seq) this.latest.set(symbol, frame);
          return frame;
        });
        const shared = attach.finally(() => this.attaching.delete(symbol));
        this.attaching.set(symbol, shared);
        attach = shared;
      }
      return await attach;
    } catch (err) {
      throw new StompError(`No price for ${symbol}`, String(err instanceof Error ? err.message : err).slice(0, 300));
    } finally {
      const left = (this.pendingSubs.get(symbol) ?? 1) - 1;
      if (left > 0) this.pendingSubs.set(symbol, left);
      else this.pendingSubs.delete(symbol);
    }
  }

  /** No subscriber left: forget the symbol (a later subscribe attaches again). */
  private release(symbol: string): void {
    this.attached.delete(symbol);
    this.latest.delete(symbol);
  }

  /** A count changed: report it upstream after the debounce, together with the others. */
  private touch(symbol: string): void {
    this.dirty.add(symbol);
    if (this.reportArmed) return;
    this.reportArmed = true;
    this.timers.later(() => void this.report(), this.debounceMs);
  }

  private async report(): Promise<void> {
    this.reportArmed = false;
    const symbols = [...this.dirty];
    this.dirty.clear();
    await Promise.all(
      symbols.map(async (symbol) => {
        const count = this.count(symbol);
        if (count === 0) {
          if (this.attaching.has(symbol)) return;
          const held = this.attached.has(symbol);
          this.release(symbol);
          if (!held) return; // never reached its source (a failed subscribe): nothing to undo
        }
        await this.upstream.interest(symbol, count).catch(() => this.touch(symbol));
      }),
    );
  }
}
