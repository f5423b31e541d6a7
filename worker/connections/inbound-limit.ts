import { TokenBucket } from "./token-bucket";

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
  private readonly messages: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(
    private readonly limits: InboundLimits,
    now: number,
  ) {
    this.messages = new TokenBucket(limits.messagesPerSecond, limits.messageBurst, now);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.byteBurst, now);
  }

  /** Takes one message of `size` bytes; the reason if it is over a limit. */
  take(size: number, now: number): string | undefined {
    if (this.messages.available(now) < 1)
      return `More than ${this.limits.messagesPerSecond} messages a second (burst ${this.limits.messageBurst}).`;
    if (!this.bytes.take(size, now))
      return `More than ${this.limits.bytesPerSecond} bytes a second (burst ${this.limits.byteBurst}).`;
    this.messages.take(1, now);
    return undefined;
  }
}
