import type { StreamCodec, StreamFault } from "../../feeds/stream/codec";
import { RateWindow } from "../../feeds/stream/rate-window";

/** What a connection tells its owner: each message received, and its end (once, with why). */
export interface ConnectionEvents {
  message(text: string): void;
  ended(fault: StreamFault): void;
}

/** How the owner opens a socket: a provider's WebSocket, or the simulator's in-process exchange. */
export type Dial = (url: string) => Promise<DialResult>;

export type DialResult =
  | { socket: WebSocket }
  /** `fatal`: the provider refused the key or the connection count at the upgrade already. */
  | { fault: StreamFault; fatal: boolean };

/** Opens a provider's WebSocket with an upgrade request (workerd's outbound WebSockets). */
export async function dialProvider(url: string): Promise<DialResult> {
  try {
    const response = await fetch(url.replace(/^ws/, "http"), { headers: { Upgrade: "websocket" } });
    if (response.webSocket) {
      response.webSocket.accept();
      return { socket: response.webSocket };
    }
    const reason = `HTTP ${response.status} on upgrade`;
    void response.body?.cancel();
    if (response.status === 401 || response.status === 403) return { fault: { kind: "auth", reason }, fatal: true };
    if (response.status === 429) return { fault: { kind: "connection-limit", reason }, fatal: true };
    return { fault: { kind: "connect-failed", reason }, fatal: false };
  } catch (err) {
    return { fault: { kind: "connect-failed", reason: String(err).slice(0, 200) }, fatal: false };
  }
}

/**
 * One upstream socket's life, made fresh per socket so its state dies with it: the socket,
 * the codec (per-connection state: sequence numbers, which provider name stands for which
 * symbols), the queue of messages waiting for room in the provider's message rate, and that
 * rate's window. After `close()` (or its end) it reports nothing more: events of a replaced
 * socket cannot reach the owner.
 */
export class UpstreamConnection {
  private open = true;
  private readonly outbox: string[] = [];
  /** What we may send the provider (Binance: 5 messages a second); a tenth of a second to spare for jitter. */
  private readonly budget: RateWindow;

  constructor(
    readonly codec: StreamCodec,
    private readonly socket: WebSocket,
    private readonly events: ConnectionEvents,
  ) {
    this.budget = new RateWindow(codec.limits.messagesPerSecond, 1_100);
    socket.addEventListener("message", (event) => {
      if (this.open)
        events.message(
          typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer),
        );
    });
    socket.addEventListener("close", (event) =>
      this.end({ kind: "closed", reason: `closed ${event.code}${event.reason ? `: ${event.reason}` : ""}` }),
    );
    socket.addEventListener("error", () => this.end({ kind: "closed", reason: "socket error" }));
  }

  /** Queues messages in order and sends what the provider's rate allows now. */
  send(texts: readonly string[], now: number): void {
    this.outbox.push(...texts);
    this.drain(now);
  }

  /** Sends queued messages while the rate allows. */
  drain(now: number): void {
    try {
      while (this.open && this.outbox.length > 0 && this.budget.room(now) > 0) {
        this.socket.send(this.outbox.shift()!);
        this.budget.note(1, now);
      }
    } catch (err) {
      this.end({ kind: "closed", reason: `send failed: ${String(err).slice(0, 100)}` });
    }
  }

  /** When queued messages may go out next (undefined: nothing waits). */
  nextSendAt(now: number): number | undefined {
    return this.outbox.length > 0 ? (this.budget.nextAt(now) ?? now) : undefined;
  }

  /** Closes the socket; nothing more is reported. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    try {
      this.socket.close(1000, "done");
    } catch {
      // already closing
    }
  }

  private end(fault: StreamFault): void {
    if (!this.open) return;
    this.close();
    this.events.ended(fault);
  }
}
