import type { FanoutNode } from "../broker/fanout-tree";
import type { StreamFrame } from "../broker/stream-frame";
import type { Env } from "../env";
import { log } from "../log";
import { hubStub, relayStub } from "./stubs";

/** A hub that holds no subscriber of a stream (`key`) any more. */
export interface IdleHolder {
  hub: string;
  key: string;
}

/**
 * Delivers frames (of one stream, or of a feed round's many) to one node of a fan-out
 * tree: a hub fans them out to its connections (only the streams its node names, if
 * any), a relay passes them on to its own children. Returns the hubs below that hold no
 * subscriber of a delivered stream any more (the root stops delivering it to them). A
 * failed delivery is logged and skipped: the hub fills the gap from the source's history
 * when the next frames arrive.
 */
export async function deliverTo(env: Env, frames: StreamFrame[], node: FanoutNode): Promise<IdleHolder[]> {
  try {
    if ("relay" in node) return await relayStub(env, node.relay).forward(frames, node.children);
    const keys = node.keys && new Set(node.keys);
    const mine = keys ? frames.filter((f) => keys.has(f.key)) : frames;
    if (mine.length === 0) return [];
    const idle = await hubStub(env, node.hub).deliver(mine);
    return idle.map((key) => ({ hub: node.hub, key }));
  } catch (err) {
    log("deliver_failed", { stream: frames[0]?.key, to: "hub" in node ? node.hub : node.relay, seq: frames[0]?.seq, error: String(err) });
    return [];
  }
}
