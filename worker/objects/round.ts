import type { StreamFrame } from "../broker/stream-frame";
import type { Env } from "../env";
import { buildFanoutTree, type FanoutNode } from "../fanout/tree";
import { TreeSender } from "../fanout/tree-sender";
import type { Tick } from "../market/tick";
import { appendTo } from "../multimap";
import { deliverVia } from "./deliver";

/**
 * Sends a round's frames (a feed round, or a stream window) to every hub holding any of its
 * symbols: one delivery per hub carrying every symbol it holds, through relays named
 * `relay:{name}:…` past FANOUT_DEGREE hubs, one delivery in flight per node (rounds that pile
 * up behind a slow hub go together, in order).
 */
export class RoundSender {
  private readonly fanout: TreeSender;

  constructor(
    env: Env,
    /** The round tree's name (its relays' names derive from it); read per round. */
    private readonly name: () => string,
    private readonly fanoutDegree: number,
  ) {
    this.fanout = new TreeSender(deliverVia(env));
  }

  /** Sends the round; returns its tree. */
  send(ingested: readonly Ingested[]): FanoutNode[] {
    const keysByHub = new Map<string, string[]>();
    const frames: StreamFrame[] = [];
    for (const { frame, hubs } of ingested) {
      if (!frame || !hubs || hubs.length === 0) continue;
      frames.push(frame);
      for (const hub of hubs) appendTo(keysByHub, hub, frame.key);
    }
    const tree = buildFanoutTree(
      this.name(),
      [...keysByHub].map(([hub, keys]) => ({ hub, keys })),
      this.fanoutDegree,
    );
    for (const frame of frames) this.fanout.send(tree, frame);
    return tree;
  }
}

/** What a feed round did to a symbol: whether it is still watched, its latest tick, and the frame to deliver to `hubs`. */
export interface Ingested {
  active: boolean;
  tick?: Tick;
  frame?: StreamFrame;
  hubs?: string[];
}
