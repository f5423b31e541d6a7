import { DurableObject } from "cloudflare:workers";
import type { StreamFrame } from "../broker/stream-frame";
import type { Env } from "../env";
import type { FanoutNode } from "../fanout/tree";
import { deliverTo } from "./deliver";

/**
 * An inner node of a fan-out tree (a symbol's, or a feed round's), inserted when the
 * root has more hubs than FANOUT_DEGREE. Stateless: each call names the children to
 * deliver to (the root owns the tree), so an evicted relay loses nothing. It answers
 * once every child has taken the frames, so the root's one-call-in-flight order holds
 * through it.
 */
export class FanoutRelay extends DurableObject<Env> {
  async forward(frames: StreamFrame[], children: FanoutNode[]): Promise<void> {
    await Promise.all(children.map((child) => deliverTo(this.env, frames, child)));
  }

  /** Test hook (TEST_HOOKS only): drop this instance as an eviction would. */
  evict(): void {
    this.ctx.abort("evicted by test hook");
  }
}
