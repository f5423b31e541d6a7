/** When the first attempt after a dropped connection starts: somewhere in this window. */
export const FIRST_RETRY_MIN_MS = 500;
export const FIRST_RETRY_MAX_MS = 3_000;
const MAX_DELAY_MS = 30_000;

/**
 * Delay before reconnect attempt `failures` (0: the first after a drop). A deploy or
 * restart drops every client at once: the first retries spread evenly over 0.5–3 s, so N
 * clients come back at about N / 2.5 per second, not all in the same instant; each later
 * failure doubles the window (full jitter), up to 30 s. Pure: `random` is injected.
 */
export function reconnectDelay(failures: number, random: () => number = Math.random): number {
  if (failures === 0) return FIRST_RETRY_MIN_MS + random() * (FIRST_RETRY_MAX_MS - FIRST_RETRY_MIN_MS);
  const window = Math.min(MAX_DELAY_MS, FIRST_RETRY_MAX_MS * 2 ** Math.min(failures, 10));
  return FIRST_RETRY_MIN_MS + random() * (window - FIRST_RETRY_MIN_MS);
}
