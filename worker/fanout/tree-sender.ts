import type { StreamFrame } from "../broker/stream-frame";
import { DeliveryQueues } from "./delivery-queue";
import { type FanoutNode, nodeName } from "./tree";

/** Delivers frames to one node of a tree (a hub, or a relay with its children); reports its own failures. */
export type Deliver = (node: FanoutNode, frames: StreamFrame[]) => Promise<void>;

/**
 * The one way frames leave an object for hubs, whatever they are (a symbol's live or
 * delayed ticks, its viewer counts, a feed round's many symbols): each frame goes to every
 * child of the tree it is sent along, one call in flight per child, frames of the same turn
 * (or queued behind a call in flight) together, always in order. One way only: nothing
 * comes back; a hub that holds a stream no more tells that stream's source itself.
 */
export class TreeSender {
  private readonly queues: DeliveryQueues<FanoutNode, StreamFrame>;

  constructor(deliver: Deliver) {
    this.queues = new DeliveryQueues(nodeName, deliver);
  }

  send(tree: readonly FanoutNode[], frame: StreamFrame): void {
    for (const node of tree) this.queues.push(node, frame);
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    return this.queues.idle();
  }
}
