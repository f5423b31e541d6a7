/**
 * The client's address as Cloudflare's edge sets it ("" when absent). Bounded, because it
 * keys maps (per-address limits, failed-credential throttles) and binds SockJS sessions.
 */
export function clientAddress(request: Request): string {
  return request.headers.get("CF-Connecting-IP")?.slice(0, 64) ?? "";
}
