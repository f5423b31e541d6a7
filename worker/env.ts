/**
 * Bindings and vars from wrangler.toml, plus secrets from `wrangler secret` / `.dev.vars`.
 * The namespaces are untyped here (no import of the object classes, so no import
 * circle); `objects/stubs.ts` hands out typed stubs.
 */
export interface Env {
  /** One SymbolSource per symbol: seq, epoch, history, the feed, the top of the fan-out tree. */
  SOURCE: DurableObjectNamespace;
  /** ConnectionHubs, named by region and shard: every client connection lives in one. */
  HUB: DurableObjectNamespace;
  /** FanoutRelays: inner nodes of a symbol's fan-out tree when it has many hubs. */
  RELAY: DurableObjectNamespace;
  /** FeedScheduler shards: pull prices within the provider's budget. */
  SCHEDULER: DurableObjectNamespace;
  /** Hosts the SockJS protocol-suite services (echo, close, ...); used only with SOCKJS_TEST_SERVICES. */
  SOCKJS_TEST: DurableObjectNamespace;
  /** The static files, when they are served behind the worker (`npm start`; on Cloudflare they come first). */
  ASSETS?: Fetcher;

  /** Comma-separated origins (`https://a.example`, `https://*.example.com`, or `*`). */
  ALLOWED_ORIGINS?: string;
  REQUIRE_ORIGIN?: string;
  TICK_INTERVAL_MS?: string;
  FEED_PROVIDER?: string;
  /** Overrides the provider's API base URL (a self-hosted proxy, or a test server). */
  FEED_BASE_URL?: string;
  FEED_TIMEOUT_MS?: string;
  FEED_RETRIES?: string;
  FEED_REQUESTS_PER_MINUTE?: string;
  STALE_AFTER_MS?: string;
  /** Alpaca's data feed: iex (free) or sip. */
  ALPACA_DATA_FEED?: string;
  SIM_SEED?: string;
  /** builtin (default) or any. */
  SIM_UNIVERSE?: string;
  MAX_FRAME_BYTES?: string;
  MAX_SUBSCRIPTIONS?: string;
  INBOUND_MESSAGES_PER_SECOND?: string;
  INBOUND_BYTES_PER_SECOND?: string;
  HEARTBEAT_MS?: string;
  PUBLISH_HOLD_MS?: string;
  HISTORY_SIZE?: string;
  MAX_REPLAY?: string;
  /** Symbols carried: exact ones and `*` patterns, comma-separated; empty = any. */
  SYMBOLS?: string;
  MAX_ACTIVE_SYMBOLS?: string;
  MAX_CONNECTIONS_PER_ADDRESS?: string;
  HUB_SHARDS?: string;
  HUB_MAX_CONNECTIONS?: string;
  HUB_FLUSH_MS?: string;
  FANOUT_DEGREE?: string;
  SCHEDULER_SHARDS?: string;
  INTEREST_DEBOUNCE_MS?: string;
  /** `open` (default: tokens optional) or `token` (every connection presents a valid token). */
  AUTH_MODE?: string;
  /** Required `aud` / `iss` of subscriber tokens, when set. */
  AUTH_AUDIENCE?: string;
  AUTH_ISSUER?: string;
  /** Public keys of subscriber tokens: SPKI PEM (ES256 or RS256), or an inline JWKS. */
  AUTH_JWT_PUBLIC_KEY?: string;
  AUTH_JWKS?: string;
  /** How late connections without a real-time entitlement see prices (ms); 0 = live for all. */
  PUBLIC_DELAY_MS?: string;
  /** Test only: mounts /__test/ hooks (force-evict an object). */
  TEST_HOOKS?: string;
  SOCKJS_WEBSOCKET?: string;
  SOCKJS_COOKIE_NEEDED?: string;
  SOCKJS_HEARTBEAT_MS?: string;
  SOCKJS_DISCONNECT_DELAY_MS?: string;
  SOCKJS_RESPONSE_LIMIT?: string;
  SOCKJS_CLIENT_URL?: string;
  /** Dev/test only: mounts the SockJS protocol-suite services under /sockjs-test/. */
  SOCKJS_TEST_SERVICES?: string;

  /** Secrets: the provider key (Alpaca: key id) and, for Alpaca, the secret key. */
  FEED_API_KEY?: string;
  FEED_API_SECRET?: string;
  /** Set by `npm start` (a fresh random value each run): lets it run the cron job through POST /__cron. */
  CRON_TRIGGER_TOKEN?: string;
  /** Secret. Unset means publishing is disabled (except by tokens with `pub`). */
  PUBLISH_TOKEN?: string;
  /** Secret: the HS256 key of subscriber tokens (shared with the site's token endpoint). */
  AUTH_JWT_SECRET?: string;
}
