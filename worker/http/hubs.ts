import type { Config } from "../config";
import type { Env } from "../env";
import { hubStub } from "../objects/stubs";
import { hubName, probeOrder, type RequestGeo, regionOf, shardOf } from "../routing/placement";
import { edgeAddress } from "../transports/client-address";
import { type ForwardedRoute, forwardRequest, HUB_FULL_HEADER } from "../transports/sockjs/forwarding";
import { reject } from "./reply";

/** Largest POST body passed on to a hub (xhr_send / jsonp_send); the hub applies STOMP limits after. */
const MAX_BODY_BYTES = 1_048_576;

/**
 * Sends a connection request (a WebSocket upgrade or a SockJS session request) to a
 * connection hub in the caller's region. `key` pins the hub (a SockJS session id: every
 * request of the session must reach the same hub); without it a shard is picked at
 * random. A full hub answers with HUB_FULL_HEADER and the next shard is tried, so a
 * connection is placed elsewhere rather than dropped.
 */
export async function toHub(
  env: Env,
  config: Config,
  request: Request,
  route: ForwardedRoute,
  key?: string,
): Promise<Response> {
  let body: ArrayBuffer | undefined;
  if (request.method === "POST") {
    // Read before any answer (workerd fails the client connection otherwise), and once:
    // the same body may have to go to several hubs.
    body = await request.arrayBuffer();
    if (body.byteLength > MAX_BODY_BYTES) return reject("body-too-large", `request body over ${MAX_BODY_BYTES} bytes`);
  }
  const address = edgeAddress(request, config.clientAddress);
  const region = regionOf(request.cf as RequestGeo | undefined);
  const first = key === undefined ? Math.floor(Math.random() * config.hubShards) : shardOf(key, config.hubShards);
  for (const shard of probeOrder(first, config.hubShards)) {
    const response = await hubStub(env, hubName(region, shard)).fetch(forwardRequest(request, route, address, body));
    if (!response.headers.has(HUB_FULL_HEADER)) return response;
  }
  return reject("hubs-full", "every connection hub in this region is full: try again shortly", { "Retry-After": "5" });
}
