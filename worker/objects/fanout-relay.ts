import { DurableObject } from "cloudflare:workers";
import type { FanoutNode } from "../broker/fanout-tree";
import type { StreamFrame } from "../broker/stream-frame";
import type { Env } from "../env";
import { deliverTo } from "./fanout";

/**
 * An inner node of a symbol's fan-out tree, inserted by the source when it has more
 * hubs than FANOUT_DEGREE. Stateless: each call names the children to deliver to (the
 * source owns the tree), so an evicted relay loses nothing. It answers once every child
 * has taken the frames, so the source's one-call-in-flight order holds through it.
 */
export class FanoutRelay extends DurableObject<Env> {
  async forward(key: string, frames: StreamFrame[], children: FanoutNode[]): Promise<string[]> {
    const idle = await Promise.all(children.map((child) => deliverTo(this.env, key, frames, child)));
    return idle.flat();
  }

  /** Test hook (TEST_HOOKS only): drop this instance as an eviction would. */
  evict(): void {
    this.ctx.abort("evicted by test hook");
  }
}
