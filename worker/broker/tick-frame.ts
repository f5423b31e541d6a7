import { byteLength } from "../protocol/stomp/encoder";
import { escapeHeader } from "../protocol/stomp/escape";
import type { StompVersion } from "../protocol/stomp/frame";
import { topicFor } from "../market/symbol";
import type { Tick } from "../market/tick";

/**
 * A tick rendered once for every subscriber: everything after the per-subscription
 * headers. Built by the symbol's object and shipped as-is to every holder object,
 * so no holder does JSON or header work per socket.
 */
export interface TickFrame {
  symbol: string;
  seq: number;
  messageId: string;
  /** `destination`…`content-length`, blank line, JSON body, NUL. Needs no escaping in any version. */
  tail: string;
}

export function buildTickFrame(tick: Tick): TickFrame {
  const body = JSON.stringify(tick);
  const messageId = `${tick.symbol}-${tick.seq}`;
  return {
    symbol: tick.symbol,
    seq: tick.seq,
    messageId,
    tail:
      `destination:${topicFor(tick.symbol)}\nmessage-id:${messageId}\n` +
      `content-type:application/json\ncontent-length:${byteLength(body)}\n\n${body}\0`,
  };
}

/** The per-subscription head of a MESSAGE frame, computed once at SUBSCRIBE. */
export function messageHead(version: StompVersion, subscriptionId: string): string {
  return `MESSAGE\nsubscription:${escapeHeader(subscriptionId, version)}\n`;
}

/** STOMP 1.2 requires an `ack` header on MESSAGEs of client-acknowledged subscriptions. */
export function renderMessage(head: string, needsAck: boolean, frame: TickFrame): string {
  return needsAck ? `${head}ack:${frame.messageId}\n${frame.tail}` : head + frame.tail;
}
