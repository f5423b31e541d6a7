const cache = new Map<string, string>();

/** A strong ETag for a fixed text (memoized: these texts only change with config or a deploy). */
async function etagOf(text: string): Promise<string> {
  const known = cache.get(text);
  if (known) return known;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const etag = `"${hex}"`;
  cache.set(text, etag);
  return etag;
}

/** Serves a fixed text with a strong ETag, answering 304 (no body, no type) when the client has it. */
export async function serveFixedText(
  request: Request,
  text: string,
  contentType: string,
  headers: Record<string, string>,
): Promise<Response> {
  const etag = await etagOf(text);
  const all = { ...headers, ETag: etag };
  if (request.headers.get("If-None-Match") === etag) return new Response(null, { status: 304, headers: all });
  return new Response(text, { headers: { ...all, "Content-Type": contentType } });
}
