/** How much a connection may send us. */
export interface InboundLimits {
  messagesPerSecond: number;
  bytesPerSecond: number;
  /** How far above the rates a burst may go (a page subscribing to its whole watchlist at once). */
  messageBurst: number;
  byteBurst: number;
}

/**
 * Token buckets for one connection's inbound messages and bytes. Every message a client
 * sends wakes the object and is billed; a client that trickles a frame a byte at a time,
 * or floods, is stopped here before it can hold up other connections. Pure: the caller owns time.
 */
export class InboundLimiter {
  private messages: number;
  private bytes: number;
  private at: number;

  constructor(
    private readonly limits: InboundLimits,
    now: number,
  ) {
    this.messages = limits.messageBurst;
    this.bytes = limits.byteBurst;
    this.at = now;
  }

  /** Takes one message of `size` bytes; the reason if it is over a limit. */
  take(size: number, now: number): string | undefined {
    const elapsed = Math.max(0, now - this.at) / 1000;
    this.at = now;
    this.messages = Math.min(this.limits.messageBurst, this.messages + elapsed * this.limits.messagesPerSecond);
    this.bytes = Math.min(this.limits.byteBurst, this.bytes + elapsed * this.limits.bytesPerSecond);
    if (this.messages < 1) return `More than ${this.limits.messagesPerSecond} messages a second (burst ${this.limits.messageBurst}).`;
    if (this.bytes < size) return `More than ${this.limits.bytesPerSecond} bytes a second (burst ${this.limits.byteBurst}).`;
    this.messages -= 1;
    this.bytes -= size;
    return undefined;
  }
}
