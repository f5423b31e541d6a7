import { BAR_SNAPSHOT, type StreamFrame } from "./stream-frame";
import type { Stream } from "./streams";

/** What the hub knows of one stream it holds, or is attaching to. */
export interface HeldStream {
  stream: Stream;
  /** `streamKey(stream)`, kept: every delivery and count looks it up. */
  key: string;
  /** The newest frame: the snapshot for new subscribers, the guard against replays. */
  latest?: StreamFrame;
  /** Older frames new subscribers get first (`keep`: a bar stream's recent final bars), oldest first. */
  recent?: StreamFrame[];
  /** Whether its source is known to deliver here. */
  attached: boolean;
  /** The attach in flight, shared by every subscribe that waits for it. */
  attaching?: Promise<StreamFrame[]>;
  /** Subscribes waiting for their snapshot: they count as subscriptions already. */
  waiting: number;
  /** The stream's ordering chain: a delivery that fills a gap, or a resume, holds back what comes after. */
  chain?: Promise<unknown>;
}

/** Keeps a frame marked `keep` (a final bar) among the stream's recent ones, the newest BAR_SNAPSHOT. */
export function keepRecent(held: HeldStream, frame: StreamFrame): void {
  held.recent ??= [];
  const recent = held.recent;
  recent.push(frame);
  if (recent.length > BAR_SNAPSHOT) recent.shift();
}

/** Two runs of kept frames as one, by position, without repeats, the newest BAR_SNAPSHOT. */
export function mergeRecent(a: readonly StreamFrame[], b: readonly StreamFrame[]): StreamFrame[] {
  const bySeq = new Map<number, StreamFrame>();
  for (const f of [...a, ...b]) bySeq.set(f.seq, f);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq).slice(-BAR_SNAPSHOT);
}

/**
 * What a new subscriber gets first: the kept recent frames older than the newest, then
 * the newest (deliveries may have overtaken the snapshot: the held ones win).
 */
export function snapshotFrames(held: HeldStream, snapshot: StreamFrame[]): StreamFrame[] {
  const newest = held.latest ?? snapshot.at(-1);
  if (!newest) return [];
  return [...(held.recent ?? []).filter((f) => f.seq < newest.seq), newest];
}
