/**
 * Compression of the static files when the worker serves them itself (`npm start`: bare
 * workerd has no edge in front to do it). Cloudflare compresses text responses per
 * `Accept-Encoding`; here the response is marked with the chosen `Content-Encoding` and
 * workerd encodes the body on the way out. Pure apart from building the Response.
 */

/** What Cloudflare compresses by default that this site serves: text, scripts, JSON, SVG, source maps. */
const COMPRESSIBLE = /^(text\/|application\/(javascript|json|xml|manifest\+json)|image\/svg\+xml)/i;

export type Encoding = "br" | "gzip";

/** The encoding a client accepts that we prefer (br over gzip), honouring `q=0`; none if it accepts neither. */
export function chooseEncoding(acceptEncoding: string | null): Encoding | undefined {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const weight = (e: string) => accepted.get(e) ?? accepted.get("*") ?? 0;
  if (weight("br") > 0) return "br";
  if (weight("gzip") > 0) return "gzip";
  return undefined;
}

/** `asset` compressed for `request` when worth it; otherwise as it is. */
export function compressAsset(request: Request, asset: Response): Response {
  const type = asset.headers.get("content-type") ?? "";
  const encoding = chooseEncoding(request.headers.get("accept-encoding"));
  if (asset.status !== 200 || !asset.body || asset.headers.has("content-encoding") || !COMPRESSIBLE.test(type))
    return asset;
  const headers = new Headers(asset.headers);
  headers.append("vary", "Accept-Encoding");
  if (!encoding) return new Response(asset.body, { status: asset.status, headers });
  headers.set("content-encoding", encoding);
  headers.delete("content-length");
  // The ETag names the file's bytes; a compressed body is a different representation (weak, as Cloudflare makes it).
  const etag = headers.get("etag");
  if (etag && !etag.startsWith("W/")) headers.set("etag", `W/${etag}`);
  return new Response(asset.body, { status: asset.status, headers });
}
