import type { SessionState } from "../broker/session-state";
import type { Conflation, SessionTransport, StompSession } from "../broker/stomp-session";
import { decodeSocketMessage } from "../protocol/sockjs/frames";
import { StompError } from "../protocol/stomp/errors";
import { InboundLimiter, type InboundLimits } from "./inbound-limit";
import { messageText } from "../transports/sockjs/websocket";
import type { Flushable, WriteBatcher } from "./write-batcher";

/**
 * How a connection reached its hub:
 *  - `stomp-socket`: raw STOMP over a hibernatable WebSocket (`/ws`, SockJS `/websocket`);
 *  - `sockjs-socket`: SockJS framing over a hibernatable WebSocket;
 *  - `sockjs-http`: a SockJS HTTP-transport session (xhr, streaming, eventsource, ...).
 */
export type ConnectionKind = "stomp-socket" | "sockjs-socket" | "sockjs-http";

/** The wire under a connection: writes whole transport messages, already framed by kind. */
export interface Carrier {
  /** Writes `frames` (STOMP text) as one transport message. */
  write(frames: readonly string[]): void;
  close(code: number, reason: string): void;
  /** Persists session state across hibernation (a socket attachment); no-op where it cannot. */
  save(state: SessionState): void;
}

/** A throttled subscription's state in the write path. */
interface Conflated {
  everyMs: number;
  /** When its last MESSAGE left. */
  sentAt: number;
  /** The newest MESSAGE not yet sent (an older one is replaced, never sent after it). */
  held?: () => string;
}

/**
 * One client connection, whatever its transport: it unwraps inbound framing for the
 * STOMP session, echoes SockJS-wrapped heart-beats, and is the single outbound write
 * path. MESSAGE frames are queued and leave together (one WebSocket message, or one
 * SockJS `a[...]` frame, per flush); control frames flush the queue at once, in order.
 * Throttled subscriptions are conflated here: at most one MESSAGE per interval, always
 * the newest, and the last of a burst leaves when the interval is over.
 */
export class Connection implements SessionTransport, Flushable {
  session: StompSession | undefined;
  private out: string[] = [];
  private readonly conflated = new Map<string, Conflated>();
  private readonly inbound: InboundLimiter | undefined;
  private closed = false;

  constructor(
    readonly kind: ConnectionKind,
    private readonly carrier: Carrier,
    private readonly batcher: WriteBatcher,
    /** Called once when the connection is closed from this side. */
    private readonly onClose: () => void = () => {},
    limits?: InboundLimits,
  ) {
    this.inbound = limits && new InboundLimiter(limits, Date.now());
  }

  queue(text: string | (() => string), conflate?: Conflation): void {
    if (this.closed) return;
    if (conflate) {
      let entry = this.conflated.get(conflate.key);
      if (!entry) this.conflated.set(conflate.key, (entry = { everyMs: conflate.everyMs, sentAt: Number.NEGATIVE_INFINITY }));
      const due = entry.sentAt + entry.everyMs;
      if (entry.held !== undefined || Date.now() < due) {
        entry.held = typeof text === "string" ? () => text : text;
        this.batcher.markAt(this, due);
        return;
      }
      entry.sentAt = Date.now();
    }
    this.out.push(typeof text === "string" ? text : text());
    this.batcher.mark(this);
  }

  discard(key: string): void {
    this.conflated.delete(key);
  }

  send(text: string): void {
    if (this.closed) return;
    this.out.push(text);
    this.flush();
  }

  flush(): void {
    this.releaseConflated();
    if (this.out.length === 0 || this.closed) return;
    const frames = this.out;
    this.out = [];
    this.carrier.write(frames);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.carrier.close(code, reason);
    this.onClose();
  }

  /** Moves held-back MESSAGEs whose interval is over into the queue; asks to come back for the rest. */
  private releaseConflated(): void {
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.conflated.values()) {
      if (entry.held === undefined) continue;
      const due = entry.sentAt + entry.everyMs;
      if (due <= now) {
        this.out.push(entry.held());
        entry.held = undefined;
        entry.sentAt = now;
      } else next = Math.min(next, due);
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
    if (over) return session.refuse(new StompError("Too much input", over, 1008));
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
