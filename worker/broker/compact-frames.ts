import { decodeFields, encodeDelta } from "../protocol/compact/codec";
import { batchBody, deltaEntry, type Marker, symbolPair, wholeEntry } from "../protocol/compact/entry";
import type { Rec } from "../protocol/compact/fields";
import type { StompVersion } from "../protocol/stomp/frame";
import type { AckMode } from "./session-state";
import type { StreamFrame } from "./stream-frame";
import { STREAMS, streamOfKey } from "./streams";

/**
 * The compact form in a hub: which entry one subscription gets for a frame (whole, or a
 * delta from the frame that subscription received last), and its MESSAGE. The source renders
 * each message's fields once, whole and as the delta from the message before it; a hub
 * composes entries from them, each kind of entry once per frame (memoized), so a socket costs
 * a look-up and a concatenation. Only a subscription that skipped messages (conflation) needs
 * a delta from an older one: worked out here once per frame and base, from the whole fields.
 */

/** What a compact subscription (or one symbol of a batch) keeps: the base of its next delta. */
export interface CompactState {
  /** The frame of this stream it received last (the write path sets it as the entry leaves). */
  last?: StreamFrame;
  /** Entries of a batch name their symbol. */
  batch: boolean;
  /** The header that lets a client-acknowledging subscription ACK (STOMP 1.2 `ack`, older `message-id`). */
  ackHeader?: "ack" | "message-id";
}

export function compactState(batch: boolean, ack: AckMode, version: StompVersion): CompactState {
  if (ack === "auto" || batch) return { batch };
  return { batch, ackHeader: version === "1.2" ? "ack" : "message-id" };
}

interface Memo {
  /** The whole entry, unmarked, and a single-symbol MESSAGE's text after its head. */
  whole?: string;
  wholeBody?: string;
  /** The delta entry after the frame at seq - 1, unmarked: single (and its text after the head) and batch. */
  next?: string;
  nextBody?: string;
  nextInBatch?: string;
  /** The plain body, decoded from the whole fields (for deltas from older frames). */
  rec?: Rec;
  /** Delta fields from older frames, by their seq (`null`: a delta cannot say it). */
  since?: Map<number, string | null>;
}

const memos = new WeakMap<StreamFrame, Memo>();

/** The frame looked up last: a fan-out asks for one frame's memo once per subscription in a row. */
let lastFrame: StreamFrame | undefined;
let lastMemo: Memo = {};

function memoOf(frame: StreamFrame): Memo {
  if (frame === lastFrame) return lastMemo;
  let memo = memos.get(frame);
  if (!memo) {
    memo = {};
    memos.set(frame, memo);
  }
  lastFrame = frame;
  lastMemo = memo;
  return memo;
}

/**
 * What a subscription in `state` is sent for `frame`, which it then counts as received: a
 * batch's entry, or a single-symbol subscription's MESSAGE (`head`, the entry). The entry is
 * whole for its first frame, after a frame of another epoch, and for a gap; otherwise a delta.
 */
export function compactText(frame: StreamFrame, state: CompactState, head: string, marker?: Marker): string {
  const memo = memoOf(frame);
  const entry = compactEntry(frame, memo, state, marker);
  if (state.batch) return entry;
  if (state.ackHeader) return `${head}${state.ackHeader}:${frame.messageId}\n\n${entry}\0`;
  // The common entries are shared by every subscription: so is the text after the head.
  if (entry === memo.next) {
    memo.nextBody ??= `\n${entry}\0`;
    return head + memo.nextBody;
  }
  if (entry === memo.whole) {
    memo.wholeBody ??= `\n${entry}\0`;
    return head + memo.wholeBody;
  }
  return `${head}\n${entry}\0`;
}

function compactEntry(frame: StreamFrame, memo: Memo, state: CompactState, marker: Marker | undefined): string {
  const base = state.last;
  state.last = frame;
  if (!base || base.epoch !== frame.epoch || base.seq >= frame.seq || marker?.kind === "gap")
    return whole(frame, memo, marker);
  const adjacent = base.seq === frame.seq - 1;
  const fields = adjacent && frame.compact!.delta !== undefined ? frame.compact!.delta : deltaSince(frame, memo, base);
  if (fields === undefined) return whole(frame, memo, marker);
  if (!adjacent || marker)
    return deltaEntry(fields, state.batch ? symbolOf(frame) : undefined, adjacent ? undefined : frame.seq, marker);
  if (state.batch) {
    memo.nextInBatch ??= deltaEntry(fields, symbolOf(frame));
    return memo.nextInBatch;
  }
  memo.next ??= deltaEntry(fields);
  return memo.next;
}

/** A batch entry's `"s":"AAPL"`. */
function symbolOf(frame: StreamFrame): string {
  return symbolPair(streamOfKey(frame.key).symbol);
}

function whole(frame: StreamFrame, memo: Memo, marker: Marker | undefined): string {
  if (marker) return wholeEntry(frame.seq, frame.epoch, frame.compact!.whole, marker);
  memo.whole ??= wholeEntry(frame.seq, frame.epoch, frame.compact!.whole);
  return memo.whole;
}

/** Delta fields from an older frame of the same stream, once per frame and base. */
function deltaSince(frame: StreamFrame, memo: Memo, base: StreamFrame): string | undefined {
  memo.since ??= new Map();
  let fields = memo.since.get(base.seq);
  if (fields === undefined) {
    const kind = STREAMS[streamOfKey(frame.key).kind].compact!;
    fields = encodeDelta(kind, recOf(base), recOf(frame)) ?? null;
    memo.since.set(base.seq, fields);
  }
  return fields ?? undefined;
}

function recOf(frame: StreamFrame): Rec {
  const memo = memoOf(frame);
  if (!memo.rec) {
    const kind = STREAMS[streamOfKey(frame.key).kind].compact!;
    memo.rec = decodeFields(kind, JSON.parse(`{${frame.compact!.whole}}`) as Rec, undefined, frame.seq);
  }
  return memo.rec;
}

/** A batch's MESSAGE: one per delivery round, every entry of it in one JSON array. */
export function batchMessage(head: string, entries: readonly string[]): string {
  return `${head}\n${batchBody(entries)}\0`;
}
