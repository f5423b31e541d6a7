import { describe, expect, it } from "vitest";
import { reconnectDelay } from "../../client/src/backoff";
import { prng } from "../support/prng";

describe("reconnect backoff", () => {
  it("spreads the first retries after a drop over 0.5–3 s, evenly, so a restart brings no thundering herd", () => {
    const random = prng(1);
    const delays = Array.from({ length: 10_000 }, () => reconnectDelay(0, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(3_000);
    // No half-second of the window gets much more than its share (10,000 / 5 = 2,000).
    const buckets = [0, 0, 0, 0, 0];
    for (const d of delays) buckets[Math.min(4, Math.floor((d - 500) / 500))]!++;
    for (const b of buckets) expect(b).toBeLessThan(2_300);
  });

  it("widens the window with each failure, up to 30 s", () => {
    expect(reconnectDelay(1, () => 1)).toBe(6_000);
    expect(reconnectDelay(3, () => 1)).toBe(24_000);
    expect(reconnectDelay(8, () => 1)).toBe(30_000);
    expect(reconnectDelay(8, () => 0)).toBe(500);
  });
});
