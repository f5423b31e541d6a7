const cache = new Map<string, string>();

/** A strong ETag for a fixed text (memoized: the iframe page only changes with its config). */
export async function etagOf(text: string): Promise<string> {
  const known = cache.get(text);
  if (known) return known;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const etag = `"${hex}"`;
  cache.set(text, etag);
  return etag;
}
