/**
 * Publishes a random-walk price `rate` times a second for `seconds`, each on its own
 * schedule (a slow publish does not hold back the next). A failed publish is counted, not
 * fatal: the run must still end and clean up. `failed` keeps counting publishes still in
 * flight when this returns.
 */
export async function publishPaced(
  rate: number,
  seconds: number,
  step: number,
  publish: (price: number) => Promise<void>,
): Promise<{ sent: number; failed: number }> {
  const counts = { sent: 0, failed: 0 };
  const start = Date.now();
  let price = 100;
  while (Date.now() - start < seconds * 1000) {
    const due = start + (counts.sent * 1000) / rate;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    price = Math.max(1, price + (Math.random() - 0.5) * step);
    counts.sent++;
    publish(Number(price.toFixed(2))).catch(() => counts.failed++);
  }
  return counts;
}
