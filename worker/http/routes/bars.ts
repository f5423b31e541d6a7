import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { isUnavailable } from "../../feeds/unavailable";
import { hash32 } from "../../hash";
import { sourceStub } from "../../objects/stubs";
import { isClosedRange, parseBarsQuery } from "../bars-query";
import { apiCors } from "../cors";
import { delayOrReject, unrealOrUndefined } from "../market-view";
import { reject, symbolOrReject, unavailable } from "../reply";

/** Closed ranges never change: cached for a day (bars older than BAR_DAYS are dropped, so not forever). */
const CLOSED_MAX_AGE_S = 86_400;

/**
 * `GET /api/bars/{SYMBOL}?interval=1m|5m|15m|1h|1d&from=&to=&limit=`: OHLCV bars, oldest
 * first. A range that ended (every bar in it final) is answered with a long-lived
 * `Cache-Control` and an `ETag`, and from the runtime's cache on repeat; anything that may
 * still hold the forming bar is `no-store`. Without a real-time token, only bars that ended
 * at least PUBLIC_DELAY_MS ago.
 */
export const barsRoutes = new Hono<{ Bindings: Env }>().get("/api/bars/:symbol", async (c) => {
  const config = readConfig(c.env);
  const symbol = symbolOrReject(c.req.param("symbol"), config.symbols);
  if (symbol instanceof Response) return symbol;
  const query = parseBarsQuery(c.req.query());
  if (typeof query === "string") return reject("invalid-parameter", query);
  const delayMs = await delayOrReject(c.env, c.req.raw, [symbol]);
  if (delayMs instanceof Response) return delayMs;
  const unreal = await unrealOrUndefined(c.env, [symbol]);
  if (unreal) return unreal;
  const closed = isClosedRange(query, Date.now() - delayMs);
  const cors = apiCors(c);
  // The key names the range only: a closed range is the same for every viewer allowed to see it.
  const key = new Request(
    `https://bars.cache/${encodeURIComponent(symbol)}/${query.interval}/${query.from}/${query.to}/${query.limit}`,
  );
  const cache = closed ? caches.default : undefined;
  if (cache) {
    const hit = await cache.match(key);
    if (hit)
      return answer(c.req.header("if-none-match"), await hit.text(), hit.headers.get("etag")!, true, "HIT", cors);
  }
  const result = await sourceStub(c.env, symbol).barsRange(
    query.interval,
    query.from,
    query.to ?? Number.MAX_SAFE_INTEGER,
    query.limit,
    delayMs,
  );
  if (isUnavailable(result)) return unavailable(result);
  // A closed range is the same for every viewer and every later day: no delay marker, no "day" (both would go stale in the cache).
  const { bars, forming, session, partial } = result;
  const body = JSON.stringify({
    symbol,
    interval: query.interval,
    bars,
    ...(closed ? {} : { ...(delayMs > 0 ? { delayed: true, delayMs } : {}), forming, session }),
    partial,
  });
  const etag = `"${hash32(body).toString(36)}-${body.length.toString(36)}"`;
  // A history still being filled in (partial) may grow: not cached.
  if (cache && !partial) {
    const stored = new Response(body, {
      headers: {
        "content-type": "application/json",
        etag,
        "cache-control": `public, max-age=${CLOSED_MAX_AGE_S}, immutable`,
      },
    });
    c.executionCtx.waitUntil(cache.put(key, stored));
  }
  return answer(
    c.req.header("if-none-match"),
    body,
    etag,
    closed && !partial,
    cache && !partial ? "MISS" : "BYPASS",
    cors,
  );
});

function answer(
  ifNoneMatch: string | undefined,
  body: string,
  etag: string,
  closed: boolean,
  cacheState: string,
  cors: Record<string, string>,
): Response {
  const headers = {
    "content-type": "application/json",
    etag,
    "cache-control": closed ? `public, max-age=${CLOSED_MAX_AGE_S}, immutable` : "no-store",
    "x-cache": cacheState,
    ...cors,
  };
  if (ifNoneMatch === etag) return new Response(null, { status: 304, headers });
  return new Response(body, { headers });
}
