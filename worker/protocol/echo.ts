/**
 * Client input quoted back in an error reason (an HTTP one-liner, a STOMP `message` or
 * body): truncated, with every character outside printable ASCII written as `\uXXXX`, so
 * a reason is always one line of plain text whatever was sent. Pure.
 */
export function echo(input: string, max = 40): string {
  const clipped = input.length > max ? `${input.slice(0, max)}…` : input;
  return clipped.replace(/[^\x20-\x7e…]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
