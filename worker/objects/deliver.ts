import type { StreamFrame } from "../broker/stream-frame";
import type { Env } from "../env";
import type { FanoutNode } from "../fanout/tree";
import type { Deliver } from "../fanout/tree-sender";
import { log } from "../log";
import { hubStub, relayStub } from "./stubs";

/**
 * Delivers frames (of one stream, or of a feed round's many) to one node of a fan-out
 * tree over RPC: a hub fans them out to its connections (only the streams its node names,
 * if any), a relay passes them on to its own children. A failed delivery is logged and
 * skipped: the hub fills the gap from the source's history when the next frames arrive.
 */
export function deliverVia(env: Env): Deliver {
  return async (node, frames) => deliverTo(env, frames, node);
}

export async function deliverTo(env: Env, frames: StreamFrame[], node: FanoutNode): Promise<void> {
  try {
    if ("relay" in node) return await relayStub(env, node.relay).forward(frames, node.children);
    const keys = node.keys && new Set(node.keys);
    const mine = keys ? frames.filter((f) => keys.has(f.key)) : frames;
    if (mine.length > 0) await hubStub(env, node.hub).deliver(mine);
  } catch (err) {
    log("deliver_failed", {
      stream: frames[0]?.key,
      to: "hub" in node ? node.hub : node.relay,
      seq: frames[0]?.seq,
      error: String(err),
    });
  }
}
