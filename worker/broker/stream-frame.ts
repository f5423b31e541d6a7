import type { Bar } from "../market/bars";
import { markDelayed } from "../market/delay";
import type { Tick } from "../market/tick";
import { encodeDelta, encodeWhole } from "../protocol/compact/codec";
import { BARS_KIND, type MessageKind, type Rec, TICKS_KIND } from "../protocol/compact/fields";
import { byteLength } from "../protocol/stomp/encoder";
import { escapeHeader } from "../protocol/stomp/escape";
import type { StompVersion } from "../protocol/stomp/frame";
import { BARS, destinationOf, type Stream, streamKey, TICKS, VIEWERS } from "./streams";

/**
 * One message of a stream rendered once for every subscriber: everything after the
 * per-subscription headers. Built by the symbol's source and shipped as-is to every hub,
 * so no hub does JSON or header work per socket.
 */
export interface StreamFrame {
  /** The stream (`ticker.AAPL`, `viewers.AAPL`). */
  key: string;
  /** Position in the stream: a tick's seq (a viewer count's time, which only has to grow). */
  seq: number;
  /** The ticker stream's epoch: positions from another epoch do not apply. */
  epoch: string;
  messageId: string;
  /** `destination`…`content-length`, blank line, JSON body, NUL. Needs no escaping in any version. */
  tail: string;
  /** The tick's timestamp (epoch ms), for the hub's delivery-lag metric; absent for viewer counts. */
  at?: number;
  /** Part of the stream's snapshot for later subscribers, not only its newest frame (a final bar). */
  keep?: true;
  /** The message in the compact form (`x-format:compact`), rendered once like `tail`; positioned streams only. */
  compact?: CompactFrame;
}

/** A message's compact fields (protocol/compact): whole, and what changed since the stream's previous message. */
export interface CompactFrame {
  whole: string;
  /** Since the message at `seq - 1` (absent: that one was not at hand, or a delta cannot say it). */
  delta?: string;
}

/** The compact fields of `body`, with the delta from `previous` (the stream's message at seq - 1) when given. */
function compactOf(kind: MessageKind, body: object, previous?: object): CompactFrame {
  const whole = encodeWhole(kind, body as Rec);
  const delta = previous && encodeDelta(kind, previous as Rec, body as Rec);
  return delta === undefined ? { whole } : { whole, delta };
}

function frame(
  stream: Stream,
  seq: number,
  epoch: string,
  messageId: string,
  body: string,
  extra = "",
  at?: number,
): StreamFrame {
  return {
    ...(at === undefined ? {} : { at }),
    key: streamKey(stream),
    seq,
    epoch,
    messageId,
    tail:
      `destination:${destinationOf(stream)}\nmessage-id:${messageId}\n${extra}` +
      `content-type:application/json\ncontent-length:${byteLength(body)}\n\n${body}\0`,
  };
}

/** The previous tick, if it is the one right before `tick` (a delta from it is worth rendering). */
function before(tick: Tick, previous: Tick | undefined): Tick | undefined {
  return previous && previous.seq === tick.seq - 1 ? previous : undefined;
}

/**
 * A tick, with its stream position in `x-seq` and `x-epoch` (clients resume from them);
 * `previous`, the stream's tick before it, if at hand, for the compact delta.
 */
export function buildTickFrame(tick: Tick, epoch: string, previous?: Tick): StreamFrame {
  return {
    ...frame(
      { kind: TICKS.live, symbol: tick.symbol },
      tick.seq,
      epoch,
      `${tick.symbol}-${tick.seq}`,
      JSON.stringify(tick),
      `x-seq:${tick.seq}\nx-epoch:${epoch}\n`,
      tick.ts,
    ),
    compact: compactOf(TICKS_KIND, tick, before(tick, previous)),
  };
}

/**
 * A tick of the delayed stream: the same position (`x-seq`, `x-epoch`), marked delayed in
 * the body and in `x-delay-ms`, under the ticker destination its subscribers named.
 */
export function buildDelayedFrame(tick: Tick, epoch: string, delayMs: number, previous?: Tick): StreamFrame {
  const delayed = markDelayed(tick, delayMs);
  const prior = before(tick, previous);
  return {
    ...frame(
      { kind: TICKS.delayed, symbol: tick.symbol },
      tick.seq,
      epoch,
      `${tick.symbol}-${tick.seq}-delayed`,
      JSON.stringify(delayed),
      `x-seq:${tick.seq}\nx-epoch:${epoch}\nx-delay-ms:${delayMs}\n`,
      tick.ts,
    ),
    compact: compactOf(TICKS_KIND, delayed, prior && markDelayed(prior, delayMs)),
  };
}

/** Final bars a new subscriber gets before the forming one (the source's snapshot, the hub's kept frames). */
export const BAR_SNAPSHOT = 30;

/** One update of a symbol's one-minute bars: the forming bar as it stands, a final bar, or a final bar's correction. */
export interface BarUpdate {
  symbol: string;
  bar: Bar;
  final: boolean;
  /** A new revision of a bar already sent final (a late trade changed it). */
  correction?: boolean;
}

/** The bar message's body: each message replaces the bar with the same `t`. */
function barBody(
  symbol: string,
  bar: Bar,
  final: boolean,
  correction: boolean | undefined,
  delayMs?: number,
): BarMessage {
  return {
    symbol,
    interval: "1m",
    ...bar,
    final,
    ...(correction ? { correction: true } : {}),
    ...(delayMs === undefined ? {} : { delayed: true, delayMs }),
  };
}

function updateBody(update: BarUpdate): BarMessage {
  return barBody(update.symbol, update.bar, update.final, update.correction);
}

/** A bar MESSAGE's body (the client library types its bar updates with it). */
export interface BarMessage extends Bar {
  symbol: string;
  interval: "1m";
  final: boolean;
  /** A new revision of a bar already sent final (a late trade changed it). */
  correction?: true;
  delayed?: true;
  delayMs?: number;
}

/** A viewer-count MESSAGE's body. */
export interface ViewersMessage {
  symbol: string;
  viewers: number;
  ts: number;
}

/**
 * A bar update at position `seq` of the symbol's bar stream (`x-seq`, `x-epoch`, as ticks);
 * `previous`, the update at `seq - 1` if at hand, for the compact delta.
 */
export function buildBarFrame(update: BarUpdate, seq: number, epoch: string, previous?: BarUpdate): StreamFrame {
  const body = updateBody(update);
  const f = {
    ...frame(
      { kind: BARS.live, symbol: update.symbol },
      seq,
      epoch,
      `${update.symbol}-bar-${seq}`,
      JSON.stringify(body),
      `x-seq:${seq}\nx-epoch:${epoch}\n`,
    ),
    compact: compactOf(BARS_KIND, body, previous && updateBody(previous)),
  };
  return update.final ? { ...f, keep: true } : f;
}

/**
 * A final bar of the delayed bar stream, at its own position (`seq` counts final bars
 * only), marked delayed in the body and in `x-delay-ms`, under the bars destination.
 */
export function buildDelayedBarFrame(
  symbol: string,
  bar: Bar,
  seq: number,
  epoch: string,
  delayMs: number,
  correction?: boolean,
): StreamFrame {
  const body = barBody(symbol, bar, true, correction, delayMs);
  return {
    ...frame(
      { kind: BARS.delayed, symbol },
      seq,
      epoch,
      `${symbol}-bar-${seq}-delayed`,
      JSON.stringify(body),
      `x-seq:${seq}\nx-epoch:${epoch}\nx-delay-ms:${delayMs}\n`,
    ),
    keep: true,
    compact: compactOf(BARS_KIND, body),
  };
}

/** A symbol's live subscription count across every hub. */
export function buildViewersFrame(symbol: string, viewers: number, at: number): StreamFrame {
  return frame(
    { kind: VIEWERS, symbol },
    at,
    "",
    `${symbol}-viewers-${at}`,
    JSON.stringify({ symbol, viewers, ts: at } satisfies ViewersMessage),
  );
}

/** The per-subscription head of a MESSAGE frame, computed once at SUBSCRIBE. */
export function messageHead(version: StompVersion, subscriptionId: string): string {
  return `MESSAGE\nsubscription:${escapeHeader(subscriptionId, version)}\n`;
}

/**
 * A MESSAGE for one subscription: STOMP 1.2 requires an `ack` header on client-acknowledged
 * subscriptions; `extra` carries per-subscription headers such as `x-gap` (already escaped).
 */
export function renderMessage(head: string, needsAck: boolean, frame: StreamFrame, extra = ""): string {
  return `${head}${needsAck ? `ack:${frame.messageId}\n` : ""}${extra}${frame.tail}`;
}
