import { type AddressRule, addressFrom } from "./trusted-proxy";

/**
 * The client's address travels from the worker to a hub in this header, set on every
 * forwarded request (whatever the client sent under that name is replaced), so objects
 * never read a client-chosen header.
 */
export const CLIENT_ADDRESS_HEADER = "X-Edge-Ticker-Client";

/**
 * In an object: the client's address the worker found for a forwarded request ("" when none
 * is known). Bounded, because it keys maps (per-address limits) and binds SockJS sessions.
 */
export function clientAddress(request: Request): string {
  return request.headers.get(CLIENT_ADDRESS_HEADER)?.slice(0, 64) ?? "";
}

/** In the worker: the client's address under the configured rule (TRUSTED_PROXY), "" when none is known. */
export function edgeAddress(request: Request, rule: AddressRule): string {
  return addressFrom(rule, request.headers, request.cf);
}
