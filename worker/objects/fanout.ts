import type { FanoutNode } from "../broker/fanout-tree";
import type { StreamFrame } from "../broker/stream-frame";
import type { Env } from "../env";
import { log } from "../log";
import { hubStub, relayStub } from "./stubs";

/**
 * Delivers frames of a stream (`ticker.AAPL`) to one node of its fan-out tree: a hub fans them out to its
 * connections, a relay passes them on to its own children. Returns the hubs below that
 * hold no subscriber of the symbol any more (the source stops delivering to them). A
 * failed delivery is logged and skipped: the hub fills the gap from the source's history
 * when the next frames arrive.
 */
export async function deliverTo(env: Env, key: string, frames: StreamFrame[], node: FanoutNode): Promise<string[]> {
  try {
    if ("hub" in node) return (await hubStub(env, node.hub).deliver(key, frames)) === 0 ? [node.hub] : [];
    return await relayStub(env, node.relay).forward(key, frames, node.children);
  } catch (err) {
    log("deliver_failed", { stream: key, to: "hub" in node ? node.hub : node.relay, seq: frames[0]?.seq, error: String(err) });
    return [];
  }
}
