import { entryOf } from "../multimap";

/**
 * Ordered, batching delivery to many children (a source's or relay's hubs and relays).
 * Each child has one delivery in flight at most; items pushed in the same turn, and
 * items pushed while a call is in flight, go together in one call. So a child always
 * receives items in push order, a feed round pushed frame by frame leaves as one call,
 * and when items arrive faster than a child takes them they coalesce into fewer, larger
 * calls instead of piling up concurrent ones. Pure: `send` does the I/O.
 */
export class DeliveryQueues<Target, Item> {
  private readonly queues = new Map<string, { target: Target; items: Item[]; busy: boolean }>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly keyOf: (target: Target) => string,
    private readonly send: (target: Target, items: Item[]) => Promise<void>,
    private readonly maxBatch = 512,
  ) {}

  /** Queues `item` for `target`; the newest target description of a key is the one used. */
  push(target: Target, item: Item): void {
    const key = this.keyOf(target);
    const queue = entryOf(this.queues, key, () => ({ target, items: [], busy: false }));
    queue.target = target;
    queue.items.push(item);
    if (queue.busy) return;
    queue.busy = true;
    queueMicrotask(() => void this.pump(key));
  }

  /** Children with a delivery in flight or waiting. */
  get pending(): number {
    return this.queues.size;
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.items.length > 0) {
      const batch = queue.items.splice(0, this.maxBatch);
      // A failed call is the sender's to report; the next one goes on (receivers fill gaps).
      await this.send(queue.target, batch).catch(() => undefined);
    }
    this.queues.delete(key);
    if (this.queues.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
