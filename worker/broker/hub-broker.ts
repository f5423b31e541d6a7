import { streamKey, streamOfKey, type Stream } from "../market/symbol";
import type { Quote } from "../market/tick";
import { appendTo } from "../multimap";
import { StompError } from "../protocol/stomp/errors";
import type { StreamPosition, Subscription } from "./session-state";
import type { SessionBroker, StompSession } from "./stomp-session";
import type { StreamFrame } from "./stream-frame";
import { SubscriptionIndex, type Delivery } from "./subscription-index";

/** What a hub needs from the symbol sources (RPC in production, fakes in unit tests). */
export interface Upstream {
  /** Registers this hub as holding `count` subscriptions of `stream`; returns the stream's latest frame (none yet: a delayed stream still waiting for its first). */
  attach(stream: Stream, count: number): Promise<StreamFrame | undefined>;
  /** Reports this hub's subscription count of `stream` (0: stop delivering here). */
  interest(stream: Stream, count: number): Promise<void>;
  /** The frames of a ticker or delayed stream with `after < seq < before`, oldest first, at most `limit`. */
  range(stream: Stream, after: number, before: number, limit: number): Promise<StreamFrame[]>;
  publish(quote: Quote): Promise<void>;
}

export interface HubTimers {
  /** Runs `fn` after `ms` (the interest debounce). */
  later(fn: () => void, ms: number): void;
}

export interface HubOptions {
  /** How long count changes gather before they are reported upstream. */
  debounceMs: number;
  /** Most ticks one resuming subscription is sent; a longer absence is a gap. */
  maxReplay: number;
}

/** How a resuming subscription starts. */
type Resume = { frames: StreamFrame[] } | { gap: StreamFrame; missed?: number };

/**
 * The broker logic of a connection hub, free of Durable Object APIs: the subscription
 * index, the latest frame of each held stream, attaching to sources, ordered delivery
 * with gap filling, resuming subscriptions from a stream position, and subscription
 * counts reported upstream (debounced).
 */
export class HubBroker implements SessionBroker {
  readonly index = new SubscriptionIndex();
  /** Newest frame per held stream: the snapshot for new subscribers, the guard against replays. */
  private readonly latest = new Map<string, StreamFrame>();
  /** Streams whose source is known to deliver here. */
  private readonly attached = new Set<string>();
  private readonly attaching = new Map<string, Promise<StreamFrame | undefined>>();
  /** Subscribes waiting for their snapshot: they count as interest already. */
  private readonly pendingSubs = new Map<string, number>();
  /** Per-stream chain: a delivery that fills a gap, or a resume, holds back what comes after. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly dirty = new Map<string, Stream>();
  private reportArmed = false;

  constructor(
    private readonly upstream: Upstream,
    private readonly timers: HubTimers,
    private readonly options: HubOptions,
  ) {}

  /** Subscriptions of a stream held here, counting those still waiting for their snapshot. */
  count(key: string): number {
    return this.index.count(key) + (this.pendingSubs.get(key) ?? 0);
  }

  /** Re-adds a hibernated session's subscriptions (the sources still deliver to us). */
  restore(session: StompSession): void {
    for (const sub of session.state.subs) {
      this.index.add(session, sub);
      this.attached.add(keyOf(sub));
    }
  }

  /** A session is gone: its subscriptions leave the index and the counts go up. */
  drop(session: StompSession): void {
    session.end();
    for (const sub of session.state.subs) this.touch(streamOf(sub));
    this.index.removeSession(session);
  }

  // SessionBroker -------------------------------------------------------------

  async subscribe(session: StompSession, sub: Subscription, since?: StreamPosition): Promise<void> {
    const stream = streamOf(sub);
    const key = streamKey(stream);
    const snapshot = await this.latestFor(stream);
    if (session.closed) return;
    if (!since) {
      // Deliveries may have overtaken the snapshot while we waited: the newest goes first.
      const delivery = this.index.add(session, sub);
      const first = this.latest.get(key) ?? snapshot;
      if (first) this.index.sendTo(delivery, first);
    } else {
      // In the stream's chain: no live frame is applied between the replay and joining the index.
      await this.inOrder(key, async () => {
        if (session.closed) return;
        const newest = this.latest.get(key) ?? snapshot;
        const delivery = this.index.add(session, sub);
        if (newest) this.start(delivery, await this.resume(session, delivery, stream, since, newest));
      });
    }
    this.touch(stream);
  }

  async unsubscribe(session: StompSession, sub: Subscription): Promise<void> {
    this.index.remove(session, sub.id);
    this.touch(streamOf(sub));
  }

  async publish(quote: Quote): Promise<void> {
    await this.upstream.publish(quote);
  }

  // From sources and relays ---------------------------------------------------

  /**
   * Frames from a source (one stream) or a feed round (many streams), directly or
   * through relays; in order within each stream. Frames already seen are skipped; in a
   * ticker stream a jump past the next seq is filled from the source's history first, so
   * subscribers never miss or reorder a tick. A stream with no subscription here any more
   * is reported to its source (0, with the other count changes), which then stops
   * delivering it here.
   */
  async deliver(frames: readonly StreamFrame[]): Promise<void> {
    const byKey = new Map<string, StreamFrame[]>();
    for (const frame of frames) appendTo(byKey, frame.key, frame);
    await Promise.all([...byKey].map(([key, list]) => this.inOrder(key, () => this.apply(key, list))));
  }

  private async apply(key: string, incoming: readonly StreamFrame[]): Promise<void> {
    this.attached.add(key);
    const known = this.latest.get(key)?.seq;
    let frames = known === undefined ? [...incoming] : incoming.filter((f) => f.seq > known);
    const first = frames[0];
    if (known !== undefined && first && first.seq > known + 1 && !key.startsWith("viewers.") && this.index.count(key) > 0) {
      const missing = await this.upstream.range(streamOfKey(key), known, first.seq, this.options.maxReplay).catch(() => []);
      frames = [...missing.filter((f) => f.seq > known && f.seq < first.seq), ...frames];
    }
    for (const frame of frames) {
      this.latest.set(key, frame);
      this.index.fanOut(frame);
    }
    if (this.count(key) === 0 && !this.attaching.has(key)) this.touch(streamOfKey(key));
  }

  // Internals -------------------------------------------------------------------

  /** Runs `task` after everything already queued for the stream, and before what comes later. */
  private inOrder<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(key) ?? Promise.resolve()).then(task, task);
    const tracked = run.catch(() => undefined);
    this.chains.set(key, tracked);
    void tracked.then(() => {
      if (this.chains.get(key) === tracked) this.chains.delete(key);
    });
    return run;
  }

  /**
   * What a subscription resuming from `since` gets before live frames: every tick after
   * it up to `newest` when the source's history still has them all, the epoch is the same
   * and the connection's replay budget covers them (charged before anything is read);
   * otherwise the newest tick marked as a gap (with how many were missed, when known). A
   * throttled subscription asked for the newest price, not every tick: the newest stands
   * for the replay and costs one.
   */
  private async resume(session: StompSession, delivery: Delivery, stream: Stream, since: StreamPosition, newest: StreamFrame): Promise<Resume> {
    if (since.epoch !== newest.epoch || since.seq > newest.seq) return { gap: newest };
    const missed = newest.seq - since.seq;
    if (missed === 0) return { frames: [] };
    const gap = { gap: newest, missed: missed - 1 };
    if (delivery.throttleMs !== undefined) return session.replay.take(1, Date.now()) ? { frames: [newest] } : gap;
    if (missed > this.options.maxReplay || !session.replay.take(missed, Date.now())) return gap;
    const frames = await this.upstream.range(stream, since.seq, newest.seq + 1, this.options.maxReplay).catch(() => []);
    const complete = frames.length === missed && frames[0]?.seq === since.seq + 1 && frames.at(-1)?.seq === newest.seq;
    return complete ? { frames } : gap;
  }

  /** Sends a resuming subscription what it missed; replayed ticks say so (`x-replay`). */
  private start(delivery: Delivery, resume: Resume): void {
    if ("frames" in resume) {
      for (const frame of resume.frames) this.index.sendTo(delivery, frame, "x-replay:true\n");
      return;
    }
    const count = resume.missed === undefined ? "" : `x-gap-count:${resume.missed}\n`;
    this.index.sendTo(delivery, resume.gap, `x-gap:true\n${count}`);
  }

  /** The latest frame of a stream: local while attached, else from its source (which then delivers here). */
  private async latestFor(stream: Stream): Promise<StreamFrame | undefined> {
    const key = streamKey(stream);
    const known = this.latest.get(key);
    if (known && this.attached.has(key)) return known;
    this.pendingSubs.set(key, (this.pendingSubs.get(key) ?? 0) + 1);
    try {
      let attach = this.attaching.get(key);
      if (!attach) {
        attach = this.upstream.attach(stream, this.count(key)).then((frame) => {
          this.attached.add(key);
          const current = this.latest.get(key);
          if (frame && (!current || current.seq < frame.seq)) this.latest.set(key, frame);
          return frame;
        });
        const shared = attach.finally(() => this.attaching.delete(key));
        this.attaching.set(key, shared);
        attach = shared;
      }
      return await attach;
    } catch (err) {
      throw new StompError("no-price", String(err instanceof Error ? err.message : err).slice(0, 300), { message: `No price for ${stream.symbol}` });
    } finally {
      const left = (this.pendingSubs.get(key) ?? 1) - 1;
      if (left > 0) this.pendingSubs.set(key, left);
      else this.pendingSubs.delete(key);
    }
  }

  /** No subscriber left: forget the stream (a later subscribe attaches again). */
  private release(key: string): void {
    this.attached.delete(key);
    this.latest.delete(key);
  }

  /** A count changed: report it upstream after the debounce, together with the others. */
  private touch(stream: Stream): void {
    this.dirty.set(streamKey(stream), stream);
    if (this.reportArmed) return;
    this.reportArmed = true;
    this.timers.later(() => void this.report(), this.options.debounceMs);
  }

  private async report(): Promise<void> {
    this.reportArmed = false;
    const streams = [...this.dirty];
    this.dirty.clear();
    await Promise.all(
      streams.map(async ([key, stream]) => {
        const count = this.count(key);
        if (count === 0) {
          if (this.attaching.has(key)) return;
          const held = this.attached.has(key);
          this.release(key);
          if (!held) return; // never reached its source (a failed subscribe): nothing to undo
        }
        await this.upstream.interest(stream, count).catch(() => this.touch(stream));
      }),
    );
  }
}

function streamOf(sub: Subscription): Stream {
  return { kind: sub.stream, symbol: sub.symbol };
}

function keyOf(sub: Subscription): string {
  return streamKey(streamOf(sub));
}
