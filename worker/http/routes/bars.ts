import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { isUnavailable } from "../../feeds/unavailable";
import { hash32 } from "../../hash";
import { type BarSpan, barSpan } from "../../market/bar-range";
import { INTERVAL_MS, type Interval } from "../../market/bars";
import { recentSessions } from "../../market/sessions";
import { sourceStub } from "../../objects/stubs";
import { parseBarsQuery } from "../bars-query";
import { apiCors } from "../cors";
import { delayOrReject, unrealOrUndefined } from "../market-view";
import { reject, symbolOrReject, unavailable } from "../reply";

/** Final ranges never change: cached for a day (bars older than BAR_DAYS are dropped, so not forever). */
const FINAL_MAX_AGE_S = 86_400;

/**
 * How far an answer may be kept: `open` may still hold the forming bar or one not yet
 * visible to the caller (never stored); `ended` has every bar ended but one may still be
 * corrected, or its history is still short (stored only to revalidate: `no-cache`);
 * `final` can no longer change (stored for a day, shared by everyone allowed to see it).
 */
type Keeping = "open" | "ended" | "final";

/**
 * `GET /api/bars/{SYMBOL}?interval=1m|5m|15m|1h|1d&from=&to=&limit=`: OHLCV bars, oldest
 * first, each whole (the range is moved to bar edges: `barSpan`). A final range is answered
 * with a long-lived `Cache-Control` and an `ETag`, and from the runtime's cache on repeat.
 * Without a real-time token, only bars that ended at least PUBLIC_DELAY_MS ago.
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
  const now = Date.now();
  // Nothing older than the kept trading days is kept: a range starting before them starts with them.
  const keptFrom = recentSessions(symbol, now, config.barDays)[0]?.open ?? 0;
  const span = barSpan(symbol, query.interval, Math.max(query.from, keptFrom), query.to);
  const ended = span.end !== undefined && span.end <= now - delayMs;
  const limit = Math.min(query.limit, mostBars(query.interval, span));
  const reply = replier(c.req.header("if-none-match"), c.req.header("authorization") !== undefined, apiCors(c));
  // The key names the range as bar edges: equal answers share it, for every viewer allowed to see them.
  const key = new Request(
    `https://bars.cache/${encodeURIComponent(symbol)}/${query.interval}/${span.from}/${span.to}/${limit}`,
  );
  const cache = ended ? caches.default : undefined;
  const hit = await cache?.match(key);
  if (hit) return reply(await hit.text(), hit.headers.get("etag")!, "final", "HIT");
  const result = await sourceStub(c.env, symbol).barsRange(
    query.interval,
    span.from,
    span.end ?? Number.MAX_SAFE_INTEGER,
    limit,
    delayMs,
  );
  if (isUnavailable(result)) return unavailable(result);
  const keeping: Keeping = !ended ? "open" : result.final ? "final" : "ended";
  // A final range is the same for every viewer and every later day: no delay marker, no "day" (both would go stale).
  const { bars, forming, session, partial } = result;
  const body = JSON.stringify({
    symbol,
    interval: query.interval,
    bars,
    ...(keeping === "final" ? {} : { ...(delayMs > 0 ? { delayed: true, delayMs } : {}), forming, session }),
    partial,
  });
  const etag = `"${hash32(body).toString(36)}-${body.length.toString(36)}"`;
  if (cache && keeping === "final") {
    const stored = new Response(body, {
      headers: { "content-type": "application/json", etag, "cache-control": cacheControl("final", false) },
    });
    c.executionCtx.waitUntil(cache.put(key, stored));
  }
  return reply(body, etag, keeping, keeping === "final" ? "MISS" : "BYPASS");
});

/** The most bars a span can hold: a limit above it answers the same as none. */
function mostBars(interval: Interval, span: BarSpan): number {
  if (span.to === undefined) return Number.MAX_SAFE_INTEGER;
  const ms = INTERVAL_MS[interval];
  return Math.max(1, Math.ceil((span.to - span.from) / ms) + (interval === "1d" ? 1 : 0));
}

/**
 * The answer's `Cache-Control`. A final answer asked with a token is `private`: a shared
 * cache must not hand a subscriber's (real-time, or restricted) answer to anyone else.
 */
function cacheControl(keeping: Keeping, withToken: boolean): string {
  switch (keeping) {
    case "open":
      return "no-store";
    case "ended":
      return "no-cache";
    case "final":
      return `${withToken ? "private" : "public"}, max-age=${FINAL_MAX_AGE_S}, immutable`;
  }
}

function replier(ifNoneMatch: string | undefined, withToken: boolean, cors: Record<string, string>) {
  return (body: string, etag: string, keeping: Keeping, cacheState: "HIT" | "MISS" | "BYPASS"): Response => {
    const { Vary: origin, ...allowed } = cors;
    const headers = {
      "content-type": "application/json",
      etag,
      "cache-control": cacheControl(keeping, withToken),
      "x-cache": cacheState,
      ...allowed,
      // What a caller may see depends on its token (entitlements, `rt`, `sym`), and on its Origin for CORS.
      vary: origin ? `Authorization, ${origin}` : "Authorization",
    };
    if (ifNoneMatch === etag) return new Response(null, { status: 304, headers });
    return new Response(body, { headers });
  };
}
