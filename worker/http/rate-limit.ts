import type { Context, Next } from "hono";
import { readConfig } from "../config";
import { AddressRates } from "../connections/address-rates";
import type { Env } from "../env";
import { entryOf } from "../multimap";
import { edgeAddress } from "../transports/client-address";
import { reject } from "./reply";

const rates = new WeakMap<Env, AddressRates>();

/**
 * The market-data API (quotes, history, bars, viewers, symbols) answers each client
 * address at most API_REQUESTS_PER_SECOND (with three seconds' worth as a burst: a page
 * loading a watchlist); past it, 429 `too-many-requests` with Retry-After. Counted in this
 * isolate (one on `npm start`; on Cloudflare each isolate counts its own). With no address
 * known (bare workerd without TRUSTED_PROXY) clients cannot be told apart and it does not apply.
 */
export async function apiRateLimit(c: Context<{ Bindings: Env }>, next: Next): Promise<Response | undefined> {
  const config = readConfig(c.env);
  const address = edgeAddress(c.req.raw, config.clientAddress);
  if (address === "") {
    await next();
    return undefined;
  }
  const rate = config.apiRequestsPerSecond;
  const wait = entryOf(rates, c.env, () => new AddressRates(rate, 3 * rate)).take(address, Date.now());
  if (wait > 0) {
    return reject("too-many-requests", `more than ${rate} market-data requests a second from this address`, {
      "Retry-After": String(Math.ceil(wait / 1000)),
    });
  }
  await next();
  return undefined;
}
