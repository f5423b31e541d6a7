import type { SockJSOptions } from "../../config";
import { closeFrame, HEARTBEAT_FRAME, messageFrame, OPEN_FRAME } from "../../protocol/sockjs/frames";
import type { Channel, OpenSession, SessionHandler } from "./channel";
import type { Receiver } from "./receiver";

/**
 * One SockJS session on the HTTP transports. Messages queue in the outbox until a
 * receiving request takes them, so nothing is lost between polls. At most one
 * receiver at a time; without one for `disconnectDelayMs` the session ends.
 */
export class HttpSession implements Channel {
  private readonly outbox: string[] = [];
  private receiver: Receiver | undefined;
  private handler: SessionHandler | undefined;
  /** Set once closed: every later receiving request gets this frame until the session is forgotten. */
  private final: string | undefined;
  private ended = false;
  private flushQueued = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private expiry: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: SockJSOptions,
    private readonly forget: () => void,
  ) {}

  /** The first receiving request: it gets the open frame, then the application starts. */
  open(receiver: Receiver, openSession: OpenSession, request: Request): void {
    this.attach(receiver);
    this.write(OPEN_FRAME);
    this.handler = openSession(this, request);
    // The application may have closed the session while it opened.
    if (this.final !== undefined) this.notifyClosed();
  }

  /** A later receiving request. */
  attach(receiver: Receiver): void {
    if (this.receiver) {
      receiver.write(closeFrame(2010, "Another connection still open"));
      receiver.end();
      return;
    }
    if (this.expiry !== undefined) clearTimeout(this.expiry);
    this.receiver = receiver;
    // A client that drops a receiver mid-session may have missed frames: the spec ends the session.
    receiver.onAbort = () => {
      if (this.receiver !== receiver) return;
      this.detach();
      this.close(1002, "Connection interrupted");
    };
    this.heartbeat = setInterval(() => this.write(HEARTBEAT_FRAME), this.options.heartbeatMs);
    this.flush();
  }

  /** Messages from xhr_send / jsonp_send. */
  receive(messages: readonly string[]): void {
    if (this.final !== undefined) return;
    for (const message of messages) this.handler?.message(message);
  }

  send(text: string): void {
    this.sendAll([text]);
  }

  sendAll(texts: readonly string[]): void {
    if (this.final !== undefined) return;
    this.outbox.push(...texts);
    // Batch what the application sends in one turn (a tick's fan-out) into one frame.
    if (this.receiver && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  close(code: number, reason: string): void {
    if (this.final !== undefined) return;
    this.final = closeFrame(code, reason);
    this.flush();
    this.notifyClosed();
  }

  /** Delivers queued messages, then the close frame, to the current receiver. */
  private flush(): void {
    while (this.receiver) {
      if (this.outbox.length > 0) {
        this.write(messageFrame(this.outbox.splice(0)));
      } else if (this.final !== undefined) {
        const receiver = this.receiver;
        this.write(this.final);
        receiver.end();
        this.detach();
      } else {
        return;
      }
    }
  }

  private write(frame: string): void {
    if (this.receiver && !this.receiver.write(frame)) this.detach();
  }

  private detach(): void {
    if (!this.receiver) return;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.receiver = undefined;
    this.expiry = setTimeout(() => this.expire(), this.options.disconnectDelayMs);
  }

  /** No receiver for the disconnect delay: the client is gone. */
  private expire(): void {
    this.notifyClosed();
    this.forget();
  }

  /** Tells the application once; not before it exists (a close during open is told after). */
  private notifyClosed(): void {
    if (this.ended || !this.handler) return;
    this.ended = true;
    this.handler?.closed();
  }
}
