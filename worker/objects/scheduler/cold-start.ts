import type { RequestBudget } from "../../feeds/budget";

export interface Waits {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Takes one request from the first quotes' budget, waiting up to `maxWaitMs` for room:
 * 0 when it got one, else how long until there would be room (the caller answers busy).
 */
export async function takeColdRequest(budget: RequestBudget, maxWaitMs: number, waits: Waits): Promise<number> {
  const deadline = waits.now() + maxWaitMs;
  for (;;) {
    const wait = budget.waitFor(1, waits.now());
    if (wait === 0 && budget.take(1, waits.now())) return 0;
    if (waits.now() + wait > deadline) return Math.max(1, wait);
    await waits.sleep(Math.max(wait, 50));
  }
}
