import type { Quote } from "../market/tick";
import { appendTo, entryOf } from "../multimap";
import { StompError } from "../protocol/stomp/errors";
import { type HeldStream, keepRecent, mergeRecent, snapshotFrames } from "./held-stream";
import type { HubOptions, HubTimers, Sources } from "./hub-ports";
import { isRefusal, refusalError, shareKeyOf } from "./refusal";
import type { StreamPosition, Subscription } from "./session-state";
import type { SessionBroker, StompSession } from "./stomp-session";
import type { StreamFrame } from "./stream-frame";
import { STREAMS, type Stream, streamKey, streamOfKey } from "./streams";
import { type Delivery, SubscriptionIndex } from "./subscription-index";

/** How a resuming subscription starts. */
type Resume = { frames: StreamFrame[] } | { gap: StreamFrame; missed?: number };

/**
 * The broker logic of a connection hub, free of Durable Object APIs: the subscription
 * index, one record per stream held (its newest frame, its attach, its ordering chain),
 * ordered delivery with gap filling, resuming subscriptions from a stream position, and
 * subscription counts reported upstream (debounced).
 */
export class HubBroker implements SessionBroker {
  readonly index = new SubscriptionIndex();
  private readonly streams = new Map<string, HeldStream>();
  /** Streams whose count changed since the last report. */
  private readonly changed = new Map<string, Stream>();
  private reportArmed = false;

  constructor(
    private readonly sources: Sources,
    private readonly timers: HubTimers,
    private readonly options: HubOptions,
  ) {}

  /** Each stream held here: its key, subscriptions and newest frame's tick time (metrics, the status page). */
  *heldStreams(): IterableIterator<{ key: string; kind: string; subscriptions: number; lastAt?: number }> {
    for (const held of this.streams.values())
      yield { key: held.key, kind: held.stream.kind, subscriptions: this.count(held.key), lastAt: held.latest?.at };
  }

  /** Subscriptions of a stream held here, counting those still waiting for their snapshot. */
  count(key: string): number {
    return this.index.count(key) + (this.streams.get(key)?.waiting ?? 0);
  }

  /** Re-adds a hibernated session's subscriptions (the sources still deliver to us). */
  restore(session: StompSession): void {
    for (const sub of session.state.subs) {
      this.index.add(session, sub);
      this.held(streamOf(sub)).attached = true;
    }
  }

  /** A session is gone: its subscriptions leave the index and the counts go up. */
  drop(session: StompSession): void {
    session.end();
    for (const sub of session.state.subs) this.countChanged(streamOf(sub));
    this.index.removeSession(session);
  }

  // SessionBroker -------------------------------------------------------------

  async subscribe(session: StompSession, sub: Subscription, since?: StreamPosition): Promise<void> {
    const stream = streamOf(sub);
    const snapshot = await this.snapshotOf(stream, shareKeyOf(session.state));
    if (session.closed) return;
    const held = this.held(stream);
    if (!since) {
      // Deliveries may have overtaken the snapshot while we waited: the newest goes first.
      const delivery = this.index.add(session, sub);
      for (const frame of snapshotFrames(held, snapshot)) this.index.sendTo(delivery, frame);
    } else {
      // In the stream's chain: no live frame is applied between the replay and joining the index.
      await this.inOrder(held, async () => {
        if (session.closed) return;
        const newest = held.latest ?? snapshot.at(-1);
        const delivery = this.index.add(session, sub);
        if (newest) this.sendResume(delivery, await this.resume(session, delivery, stream, since, newest));
      });
    }
    this.countChanged(stream);
  }

  async unsubscribe(session: StompSession, sub: Subscription): Promise<void> {
    this.index.remove(session, sub);
    this.countChanged(streamOf(sub));
  }

  async publish(quote: Quote): Promise<void> {
    await this.sources.publish(quote);
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
    await Promise.all(
      [...byKey].map(([key, list]) => {
        const held = this.streams.get(key) ?? this.held(streamOfKey(key));
        return this.inOrder(held, () => this.applyFrames(held, list));
      }),
    );
  }

  private async applyFrames(held: HeldStream, incoming: readonly StreamFrame[]): Promise<void> {
    held.attached = true;
    const key = held.key;
    const known = held.latest?.seq;
    let frames = known === undefined ? [...incoming] : incoming.filter((f) => f.seq > known);
    const first = frames[0];
    if (
      known !== undefined &&
      first &&
      first.seq > known + 1 &&
      STREAMS[held.stream.kind].positioned &&
      this.index.count(key) > 0
    ) {
      const missing = await this.sources.range(held.stream, known, first.seq, this.options.maxReplay).catch(() => []);
      const filled = missing.filter((f) => f.seq > known && f.seq < first.seq);
      this.options.meter?.filled(filled.length);
      frames = [...filled, ...frames];
    }
    const meter = this.options.meter;
    const now = meter ? Date.now() : 0;
    const positioned = STREAMS[held.stream.kind].positioned;
    for (const frame of frames) {
      // What the history could not fill (trimmed, or the source unreachable) is a gap, never a silent jump.
      const lost = positioned && held.latest ? frame.seq - held.latest.seq - 1 : 0;
      held.latest = frame;
      if (frame.keep) keepRecent(held, frame);
      if (this.index.fanOut(frame, lost > 0 ? { kind: "gap", missed: lost } : undefined) > 0 && meter)
        meter.delivered(held.stream.kind, frame.at === undefined ? undefined : now - frame.at);
    }
    if (this.count(key) === 0 && !held.attaching) this.countChanged(held.stream);
  }

  // Internals -------------------------------------------------------------------

  /** The record of `stream`, made on first use. */
  private held(stream: Stream): HeldStream {
    const key = streamKey(stream);
    return entryOf(this.streams, key, () => ({ stream, key, attached: false, waiting: 0 }));
  }

  /** Drops a stream's record once nothing about it is left to remember. */
  private tidy(held: HeldStream): void {
    if (
      !held.attached &&
      held.latest === undefined &&
      !held.attaching &&
      held.waiting === 0 &&
      !held.chain &&
      this.streams.get(held.key) === held
    ) {
      this.streams.delete(held.key);
    }
  }

  /** Runs `task` after everything already queued for the stream, and before what comes later. */
  private inOrder<T>(held: HeldStream, task: () => Promise<T>): Promise<T> {
    const run = (held.chain ?? Promise.resolve()).then(task, task);
    const tracked = run.catch(() => undefined);
    held.chain = tracked;
    void tracked.then(() => {
      if (held.chain !== tracked) return;
      held.chain = undefined;
      this.tidy(held);
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
  private async resume(
    session: StompSession,
    delivery: Delivery,
    stream: Stream,
    since: StreamPosition,
    newest: StreamFrame,
  ): Promise<Resume> {
    if (since.epoch !== newest.epoch || since.seq > newest.seq) return { gap: newest };
    const missed = newest.seq - since.seq;
    if (missed === 0) return { frames: [] };
    const gap = { gap: newest, missed: missed - 1 };
    if (delivery.pacing.everyMs !== undefined) return session.replay.take(1, Date.now()) ? { frames: [newest] } : gap;
    if (missed > this.options.maxReplay || !session.replay.take(missed, Date.now())) return gap;
    const frames = await this.sources.range(stream, since.seq, newest.seq + 1, this.options.maxReplay).catch(() => []);
    const complete = frames.length === missed && frames[0]?.seq === since.seq + 1 && frames.at(-1)?.seq === newest.seq;
    return complete ? { frames } : gap;
  }

  /** Sends a resuming subscription what it missed; replayed ticks say so (`x-replay`). */
  private sendResume(delivery: Delivery, resume: Resume): void {
    if ("frames" in resume) {
      this.options.meter?.replayed(resume.frames.length);
      for (const frame of resume.frames) this.index.sendTo(delivery, frame, { kind: "replay" });
      return;
    }
    this.options.meter?.gap();
    this.index.sendTo(delivery, resume.gap, { kind: "gap", missed: resume.missed });
  }

  /** A stream's snapshot (its newest frame; a bar stream's recent ones too): local while attached, else from its source (which then delivers here). */
  private async snapshotOf(stream: Stream, by?: string): Promise<StreamFrame[]> {
    const held = this.held(stream);
    if (held.latest && held.attached) return [held.latest];
    held.waiting++;
    try {
      if (!held.attaching) {
        const attach = this.sources.attach(stream, this.count(held.key), by).then((answer) => {
          if (isRefusal(answer)) throw refusalError(stream.symbol, answer);
          held.attached = true;
          const frames = answer === undefined ? [] : Array.isArray(answer) ? answer : [answer];
          // Deliveries may have come first (the source sends as soon as it holds this hub): merge by position.
          const kept = frames.filter((f) => f.keep);
          if (kept.length > 0) held.recent = mergeRecent(held.recent ?? [], kept);
          const newest = frames.at(-1);
          if (newest && (!held.latest || held.latest.seq < newest.seq)) held.latest = newest;
          return frames;
        });
        held.attaching = attach.finally(() => (held.attaching = undefined));
      }
      return await held.attaching;
    } catch (err) {
      if (err instanceof StompError) throw err;
      throw new StompError("no-price", String(err instanceof Error ? err.message : err).slice(0, 300), {
        message: `No price for ${stream.symbol}`,
      });
    } finally {
      held.waiting--;
      this.tidy(held);
    }
  }

  /** A count changed: report it upstream after the debounce, together with the others. */
  private countChanged(stream: Stream): void {
    this.changed.set(streamKey(stream), stream);
    if (this.reportArmed) return;
    this.reportArmed = true;
    this.timers.later(() => void this.report(), this.options.debounceMs);
  }

  /**
   * Reports the changed counts. A stream down to 0 is forgotten here (a later subscribe
   * attaches again), and its source told, if it ever delivered here.
   */
  private async report(): Promise<void> {
    this.reportArmed = false;
    const streams = [...this.changed.values()];
    this.changed.clear();
    await Promise.all(
      streams.map(async (stream) => {
        const count = this.count(streamKey(stream));
        if (count === 0) {
          const held = this.streams.get(streamKey(stream));
          if (held?.attaching) return;
          const attached = held?.attached ?? false;
          if (held) {
            held.attached = false;
            held.latest = undefined;
            held.recent = undefined;
            this.tidy(held);
          }
          if (!attached) return; // never reached its source (a failed subscribe): nothing to undo
        }
        await this.sources.interest(stream, count).catch(() => this.countChanged(stream));
      }),
    );
  }
}

function streamOf(sub: Subscription): Stream {
  return { kind: sub.stream, symbol: sub.symbol };
}
