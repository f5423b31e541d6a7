/** One JSON line per event: greppable in `wrangler tail` and Workers Logs. */
export function log(event: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ event, ...fields }));
}
