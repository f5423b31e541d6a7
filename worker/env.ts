/**
 * `Cloudflare.Env` is generated from wrangler.toml by `npm run types` (worker-configuration.d.ts:
 * its vars as strings, its Durable Object namespaces typed by class), and `npm run typecheck`
 * fails when it no longer matches the config. Here: what wrangler.toml does not declare, all
 * optional: vars with a default in config.ts, secrets (`wrangler secret` / `.dev.vars`), and the
 * bindings `npm start` adds.
 */
export interface Env extends Cloudflare.Env {
  /** The static files, when they are served behind the worker (`npm start`; on Cloudflare they come first). */
  ASSETS?: Fetcher;

  /** Overrides the provider's API base URL (a self-hosted proxy, or a test server). */
  FEED_BASE_URL?: string;
  /** Overrides the provider's stream (WebSocket) URL, as FEED_BASE_URL does its REST base. */
  FEED_STREAM_URL?: string;
  /** Symbols one upstream connection may carry: your plan's limit (the free plan's when unset). */
  FEED_STREAM_SYMBOLS?: string;
  /** A live upstream stream silent this long while its market is open is replaced (ms). */
  STREAM_SILENCE_MS?: string;
  FEED_TIMEOUT_MS?: string;
  FEED_RETRIES?: string;
  FEED_REQUESTS_PER_MINUTE?: string;
  STALE_AFTER_MS?: string;
  /** Alpaca's data feed: iex (free) or sip. */
  ALPACA_DATA_FEED?: string;
  SIM_SEED?: string;
  INBOUND_MESSAGES_PER_SECOND?: string;
  INBOUND_BYTES_PER_SECOND?: string;
  MAX_REPLAY?: string;
  /** Symbols carried: exact ones and `*` patterns, comma-separated; empty = any. */
  SYMBOLS?: string;
  MAX_ACTIVE_SYMBOLS?: string;
  /** Of MAX_ACTIVE_SYMBOLS, how many one client address may bring in. */
  MAX_ACTIVE_SYMBOLS_PER_ADDRESS?: string;
  /** A symbol nobody used for this long deletes its stored state (ms; 30 days). */
  SYMBOL_RETENTION_MS?: string;
  /** Market-data HTTP requests per second one client address may make. */
  API_REQUESTS_PER_SECOND?: string;
  /** The header a reverse proxy in front sets to the client's address, and its own address ranges (self-hosting). */
  TRUSTED_PROXY?: string;
  MAX_CONNECTIONS_PER_ADDRESS?: string;
  /** Required `aud` / `iss` of subscriber tokens, when set. */
  AUTH_AUDIENCE?: string;
  AUTH_ISSUER?: string;
  /** Public keys of subscriber tokens: SPKI PEM (ES256 or RS256), or an inline JWKS. */
  AUTH_JWT_PUBLIC_KEY?: string;
  AUTH_JWKS?: string;
  /** How often each object writes a point to METRICS_DATASET at most (ms). */
  METRICS_WRITE_MS?: string;
  /** Test only: mounts /__test/ hooks (force-evict an object). */
  TEST_HOOKS?: string;

  /** Secrets: the provider key (Alpaca: key id) and, for Alpaca, the secret key. */
  FEED_API_KEY?: string;
  FEED_API_SECRET?: string;
  /** Set by `npm start` (a fresh random value each run): lets it run the cron job through POST /__cron. */
  CRON_TRIGGER_TOKEN?: string;
  /** Set by `npm start`: bare workerd, not Cloudflare's edge (client headers such as CF-Connecting-IP are the client's own). */
  SELF_HOSTED?: string;
  /** Secret. Unset means publishing is disabled (except by tokens with `pub`). */
  PUBLISH_TOKEN?: string;
  /** Secret: the HS256 key of subscriber tokens (shared with the site's token endpoint). */
  AUTH_JWT_SECRET?: string;
  /** Secret: the read-only bearer token of GET /metrics and /status (unset: they are off). */
  METRICS_TOKEN?: string;
}
