import type { Batch, Conflation, Render, SessionState, SessionTransport } from "../broker/session-state";
import type { StompSession } from "../broker/stomp-session";
import type { ConnectionMeter } from "../metrics/hub-metrics";
import { entryOf } from "../multimap";
import { decodeSocketMessage } from "../protocol/sockjs/frames";
import { StompError } from "../protocol/stomp/errors";
import { messageText } from "../transports/sockets";
import { InboundLimiter, type InboundLimits } from "./inbound-limit";
import { TokenBucket } from "./token-bucket";
import type { Flushable, WriteBatcher } from "./write-batcher";

/**
 * How a connection reached its hub:
 *  - `stomp-socket`: raw STOMP over a hibernatable WebSocket (`/ws`, SockJS `/websocket`);
 *  - `sockjs-socket`: SockJS framing over a hibernatable WebSocket;
 *  - `sockjs-http`: a SockJS HTTP-transport session (xhr, streaming, eventsource, ...).
 */
export type ConnectionKind = "stomp-socket" | "sockjs-socket" | "sockjs-http";

/** The wire under a connection: writes whole transport messages, already framed by kind. */
export interface ConnectionCarrier {
  /** Writes `frames` (STOMP text) as one transport message. */
  write(frames: readonly string[]): void;
  close(code: number, reason: string): void;
  /** Persists session state across hibernation (a socket attachment); no-op where it cannot. */
  save(state: SessionState): void;
}

/** What one connection is sent at most: bytes per second, with a burst above it. */
export interface OutboundLimits {
  bytesPerSecond: number;
  byteBurst: number;
}

/** A subscription's state in the write path, while it is throttled or held back. */
interface Paced {
  /** `x-throttle-ms`, or 0 (held back only by the connection's outbound budget). */
  everyMs: number;
  /** When its last MESSAGE left. */
  sentAt: number;
  /** The newest MESSAGE not yet sent (an older one is replaced, never sent after it). */
  held?: Render;
  /** The batch its entries go into (a batch's symbol). */
  batch?: Batch;
  /** How many held MESSAGEs of an unthrottled subscription were replaced: the one sent says so. */
  skipped?: number;
}

/**
 * One client connection, whatever its transport: it unwraps inbound framing for the
 * STOMP session, echoes SockJS-wrapped heart-beats, and is the single outbound write
 * path. MESSAGE frames are queued and leave together (one WebSocket message, or one
 * SockJS `a[...]` frame, per flush); control frames flush the queue at once, in order.
 * Throttled subscriptions are conflated here: at most one MESSAGE per interval, always
 * the newest, and the last of a burst leaves when the interval is over. A batch
 * subscription's symbols queue entries instead, and each batch leaves as one MESSAGE of the
 * flush's entries (conflated per symbol like any subscription). The outbound
 * budget conflates every subscription the same way once the connection has been sent more
 * than its rate: the runtime reports no send buffer (workerd has no `bufferedAmount`), so a
 * client that stops reading can only be bounded by what it is sent, and that stays one
 * pending MESSAGE per subscription here and the budget's rate in the runtime.
 */
export class Connection implements SessionTransport, Flushable {
  session: StompSession | undefined;
  private out: string[] = [];
  /** Entries of batch subscriptions gathered for the next flush. */
  private readonly gathered = new Map<Batch, string[]>();
  private readonly paced = new Map<string, Paced>();
  private readonly inbound: InboundLimiter | undefined;
  private readonly outbound: TokenBucket | undefined;
  /**
   * Bytes queued since the budget was last settled, and how many it allowed then: the clock
   * is read (and the bucket charged) only once they meet, not for every frame.
   */
  private unpaid = 0;
  private allowance: number;
  private closed = false;

  constructor(
    readonly kind: ConnectionKind,
    private readonly carrier: ConnectionCarrier,
    private readonly batcher: WriteBatcher,
    /** Called once when the connection is closed from this side. */
    private readonly onClose: () => void = () => {},
    limits?: { inbound: InboundLimits; outbound: OutboundLimits },
    /** Counts what is written (absent with METRICS=off). */
    readonly meter?: ConnectionMeter,
  ) {
    const now = Date.now();
    this.inbound = limits && new InboundLimiter(limits.inbound, now);
    this.outbound = limits && new TokenBucket(limits.outbound.bytesPerSecond, limits.outbound.byteBurst, now);
    this.allowance = this.outbound ? this.outbound.burst : Number.POSITIVE_INFINITY;
  }

  queue(render: Render, sub: Conflation): void {
    if (this.closed) return;
    // The common case reads no clock: an unthrottled subscription, nothing held, within the allowance.
    if (sub.everyMs === undefined && this.unpaid < this.allowance && !this.paced.has(sub.key)) {
      this.pushMessage(render(0), sub.batch);
      this.batcher.mark(this);
      return;
    }
    const now = Date.now();
    let entry = this.paced.get(sub.key);
    const waiting = entry !== undefined && (entry.held !== undefined || now < entry.sentAt + entry.everyMs);
    if (waiting || this.overBudget(now)) {
      entry ??= entryOf(this.paced, sub.key, () => ({ everyMs: sub.everyMs ?? 0, sentAt: Number.NEGATIVE_INFINITY }));
      // A throttled subscription asked for the newest only; any other was promised every MESSAGE.
      if (entry.held !== undefined && entry.everyMs === 0) entry.skipped = (entry.skipped ?? 0) + 1;
      entry.held = render;
      entry.batch = sub.batch;
      this.batcher.markAt(this, this.dueAt(entry, now));
      return;
    }
    if (sub.everyMs !== undefined) this.paced.set(sub.key, { everyMs: sub.everyMs, sentAt: now });
    this.pushMessage(render(0), sub.batch);
    this.batcher.mark(this);
  }

  discard(sub: Conflation): void {
    this.paced.delete(sub.key);
    if (sub.batch) this.gathered.delete(sub.batch);
  }

  send(text: string): void {
    if (this.closed) return;
    // What was queued before a control frame leaves before it.
    this.closeBatches();
    this.push(text);
    if (this.meter) this.meter.controlFrames.value++;
    this.flush();
  }

  flush(): void {
    this.releasePaced();
    this.closeBatches();
    if (this.out.length === 0 || this.closed) return;
    const frames = this.out;
    this.out = [];
    this.carrier.write(frames);
    if (this.meter) this.meter.writes.value++;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.paced.clear();
    this.carrier.close(code, reason);
    this.onClose();
  }

  private push(text: string): void {
    this.out.push(text);
    this.unpaid += text.length;
    const meter = this.meter;
    if (meter) meter.bytes.value += text.length;
  }

  /** A MESSAGE frame into the queue, or an entry into its batch. */
  private pushMessage(text: string, batch?: Batch): void {
    if (!batch) {
      this.push(text);
      if (this.meter) this.meter.messageFrames.value++;
      return;
    }
    entryOf(this.gathered, batch, () => []).push(text);
    this.unpaid += text.length;
    if (this.meter) this.meter.bytes.value += text.length;
  }

  /** Each batch's gathered entries as its one MESSAGE. */
  private closeBatches(): void {
    if (this.gathered.size === 0) return;
    for (const [batch, entries] of this.gathered) {
      const text = batch.close(entries);
      this.out.push(text);
      // The entries were counted as they came: the frame around them now.
      const framing = text.length - entries.reduce((n, e) => n + e.length, 0);
      this.unpaid += framing;
      if (this.meter) {
        this.meter.bytes.value += framing;
        this.meter.messageFrames.value++;
      }
    }
    this.gathered.clear();
  }

  /** The session ended with an ERROR frame of catalogue code `code`. */
  failed(code: string): void {
    this.meter?.failed(code);
  }

  /** Settles what was queued with the budget at `now`; true while it is spent. */
  private overBudget(now: number): boolean {
    if (!this.outbound) return false;
    this.outbound.charge(this.unpaid, now);
    this.unpaid = 0;
    this.allowance = this.outbound.available(now);
    return this.allowance <= 0;
  }

  /** When a held MESSAGE may leave: its interval over, and the budget out of debt. */
  private dueAt(entry: Paced, now: number): number {
    const budget = this.outbound ? this.outbound.readyAt(1, now) : now;
    return Math.max(entry.sentAt + entry.everyMs, budget);
  }

  /** Moves held-back MESSAGEs that may leave into the queue; asks to come back for the rest. */
  private releasePaced(): void {
    if (this.paced.size === 0) return;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [key, entry] of this.paced) {
      if (entry.held === undefined) continue;
      const due = this.overBudget(now) ? this.dueAt(entry, now) : entry.sentAt + entry.everyMs;
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      this.pushMessage(entry.held(entry.skipped ?? 0), entry.batch);
      // To the back of the line: when the budget is short, every subscription gets its turn.
      this.paced.delete(key);
      if (entry.everyMs > 0) this.paced.set(key, { everyMs: entry.everyMs, sentAt: now, batch: entry.batch });
    }
    if (Number.isFinite(next)) this.batcher.markAt(this, next);
  }

  save(state: SessionState): void {
    this.carrier.save(state);
  }

  /**
   * One inbound transport message. Raw sockets carry STOMP bytes; SockJS sockets carry
   * a JSON array of strings (broken framing drops the connection, as the spec says); an
   * HTTP session hands over one decoded message at a time.
   */
  async receive(message: string | ArrayBuffer): Promise<void> {
    const session = this.session;
    if (!session || this.closed) return;
    const size = typeof message === "string" ? message.length : message.byteLength;
    const over = this.inbound?.take(size, Date.now());
    if (over) return session.refuse(new StompError("too-much-input", over));
    if (this.kind === "stomp-socket") return session.receive(message);
    const texts = this.kind === "sockjs-socket" ? decodeSocketMessage(messageText(message)) : [messageText(message)];
    if (!texts) return this.close(1002, "Broken framing.");
    for (const text of texts) {
      // Raw sockets get heart-beats echoed by the runtime's auto-response; SockJS wraps
      // the client's EOL in its framing, so the echo (our heart-beat) is sent here.
      if (text === "\n" || text === "\r\n") this.send(text);
      await session.receive(text);
    }
  }
}
