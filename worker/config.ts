import type { AuthOptions } from "./auth/options";
import { hasTokenKeys, type TokenKeys } from "./auth/subscriber-token";
import type { OutboundLimits } from "./connections/connection";
import type { InboundLimits } from "./connections/inbound-limit";
import type { Env } from "./env";
import { parseSymbolPolicy, type SymbolPolicy } from "./market/symbol-policy";
import { type AddressRule, parseTrustedProxy } from "./transports/trusted-proxy";

/** Typed, validated view of the string vars in `Env`. A bad value fails loudly, naming the var. */
export interface Config {
  tickIntervalMs: number;
  feedProvider: string;
  /** Provider connection settings (key and secret come from secrets). */
  feed: {
    baseUrl?: string;
    key?: string;
    secret?: string;
    timeoutMs: number;
    retries: number;
    alpacaDataFeed: string;
    /** Request budget; the provider's free-tier default when unset. */
    requestsPerMinute?: number;
    /** stream: the provider's WebSocket (polling while it is down); poll: REST only; auto: stream where the provider has one. */
    transport: "stream" | "poll" | "auto";
    /** Overrides the provider's stream URL (a proxy, or a test server). */
    streamUrl?: string;
    /** Trades of a symbol within this window become one tick. */
    streamBatchMs: number;
    /** A live stream silent this long while its market is open is replaced. */
    streamSilenceMs: number;
    /** Symbols one upstream connection may carry (your plan's limit); the provider's free plan when unset. */
    streamSymbols?: number;
  };
  /** A price older than this (no good feed quote) is re-sent marked stale. */
  staleAfterMs: number;
  simSeed: string;
  /** SIM_UNIVERSE=any: the simulator prices any valid symbol, not only its built-in universe. */
  simAnySymbol: boolean;
  maxFrameBytes: number;
  maxSubscriptions: number;
  /** Client→server heart-beat the server asks for (ms); 0 disables. */
  heartbeatMs: number;
  /** How long published ticks keep the feed quiet for their symbol (ms). */
  publishHoldMs: number;
  /** Ticks kept per symbol for /api/history, gap filling and resuming. */
  historySize: number;
  /** Trading days of one-minute bars kept per symbol (and backfilled). */
  barDays: number;
  /** Most ticks a resuming subscription is sent (`x-since`); a longer absence is a gap. */
  maxReplay: number;
  allowedOrigins: string[];
  requireOrigin: boolean;
  /** Connection hubs per region; connections are spread over them. */
  hubShards: number;
  /** A hub at this many connections refuses new ones (routing tries the next shard). */
  hubMaxConnections: number;
  /** Least time between two writes to a connection while frames come faster (0: every turn writes). */
  hubFlushMs: number;
  /** Most deliveries any object makes per tick; more holders than this get relays in between. */
  fanoutDegree: number;
  schedulerShards: number;
  /** How long a hub gathers subscription-count changes before reporting them to sources. */
  interestDebounceMs: number;
  testHooks: boolean;
  /** Whether objects count metrics (GET /metrics, /status, Analytics Engine): off measures their cost. */
  metrics: boolean;
  /** How often each object writes its figures to the Analytics Engine dataset at most. */
  metricsWriteMs: number;
  /** SYMBOLS: which symbols are carried (every symbol used becomes a persistent object). */
  symbols: SymbolPolicy;
  /** Symbols with subscribers at once, across scheduler shards; more are refused. */
  maxActiveSymbols: number;
  /** Of those, how many one client address (one connection when no address is known) may bring in. */
  maxActiveSymbolsPerAddress: number;
  /** A symbol nobody used for this long deletes its stored state (and is unknown again until real). */
  symbolRetentionMs: number;
  /** Market-data HTTP requests (quotes, history, bars, viewers, symbols) one address may make per second (burst: 3 s worth). */
  apiRequestsPerSecond: number;
  /** Where a client's address is read from (TRUSTED_PROXY; SELF_HOSTED: `npm start` knows none without a proxy). */
  clientAddress: AddressRule;
  /** Sockets one client address may hold in one hub. */
  maxConnectionsPerAddress: number;
  /** What one connection may send: messages, bytes and STOMP frames per second, and bursts above them. */
  inbound: InboundLimits & { framesPerSecond: number; frameBurst: number };
  /** Ticks one connection may be replayed (`x-since`) per minute; past it a resume is a gap. */
  replayBudget: number;
  /** What one connection is sent: past this rate, MESSAGEs are conflated to the newest per subscription. */
  outbound: OutboundLimits;
  auth: AuthOptions;
  sockjs: SockJSOptions;
  /** Mount the SockJS protocol-suite services under /sockjs-test/ (dev/test only). */
  sockjsTestServices: boolean;
}

/** SockJS server options (defaults are the spec's). */
export interface SockJSOptions {
  websocket: boolean;
  /** Whether sessions set a JSESSIONID cookie (for load balancers that need stickiness). */
  cookieNeeded: boolean;
  heartbeatMs: number;
  /** How long an HTTP session survives without a receiving request. */
  disconnectDelayMs: number;
  /** Bytes after which a streaming response is closed so the browser can free it. */
  responseLimit: number;
  /** sockjs-client URL loaded by the iframe page. */
  clientUrl: string;
}

/** Parsed once per `env` object (one per isolate): config is read on every request and in every object. */
const parsed = new WeakMap<Env, Config>();

export function readConfig(env: Env): Config {
  let config = parsed.get(env);
  if (!config) {
    config = parseConfig(env);
    parsed.set(env, config);
  }
  return config;
}

function parseConfig(env: Env): Config {
  return {
    tickIntervalMs: int(env, "TICK_INTERVAL_MS", 1000, 50, 3_600_000),
    feedProvider: (env.FEED_PROVIDER ?? "sim").trim() || "sim",
    feed: {
      baseUrl: env.FEED_BASE_URL?.trim() || undefined,
      key: env.FEED_API_KEY?.trim() || undefined,
      secret: env.FEED_API_SECRET?.trim() || undefined,
      timeoutMs: int(env, "FEED_TIMEOUT_MS", 5_000, 100, 60_000),
      retries: int(env, "FEED_RETRIES", 2, 0, 5),
      alpacaDataFeed: env.ALPACA_DATA_FEED?.trim() || "iex",
      requestsPerMinute: env.FEED_REQUESTS_PER_MINUTE
        ? int(env, "FEED_REQUESTS_PER_MINUTE", 60, 1, 100_000)
        : undefined,
      transport: feedTransport(env),
      streamUrl: env.FEED_STREAM_URL?.trim() || undefined,
      streamBatchMs: int(env, "STREAM_BATCH_MS", 50, 10, 1_000),
      streamSilenceMs: int(env, "STREAM_SILENCE_MS", 30_000, 1_000, 3_600_000),
      streamSymbols: env.FEED_STREAM_SYMBOLS ? int(env, "FEED_STREAM_SYMBOLS", 50, 1, 100_000) : undefined,
    },
    staleAfterMs: int(env, "STALE_AFTER_MS", 60_000, 1_000, 86_400_000),
    simSeed: env.SIM_SEED ?? "edge-ticker",
    simAnySymbol: simUniverse(env) === "any",
    maxFrameBytes: int(env, "MAX_FRAME_BYTES", 65_536, 1024, 1_048_576),
    // Subscriptions live in the socket attachment (16 KiB), which bounds this.
    maxSubscriptions: int(env, "MAX_SUBSCRIPTIONS", 100, 1, 100),
    heartbeatMs: int(env, "HEARTBEAT_MS", 10_000, 0, 3_600_000),
    publishHoldMs: int(env, "PUBLISH_HOLD_MS", 60_000, 0, 86_400_000),
    historySize: int(env, "HISTORY_SIZE", 500, 1, 10_000),
    barDays: int(env, "BAR_DAYS", 5, 1, 30),
    maxReplay: int(env, "MAX_REPLAY", int(env, "HISTORY_SIZE", 500, 1, 10_000), 1, 10_000),
    allowedOrigins: (env.ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    requireOrigin: bool(env, "REQUIRE_ORIGIN", false),
    hubShards: int(env, "HUB_SHARDS", 4, 1, 1024),
    // Below the runtime's 32,768 hibernatable sockets per object, with room for CPU per send.
    hubMaxConnections: int(env, "HUB_MAX_CONNECTIONS", 10_000, 1, 32_768),
    hubFlushMs: int(env, "HUB_FLUSH_MS", 20, 0, 1_000),
    fanoutDegree: int(env, "FANOUT_DEGREE", 32, 2, 1_000),
    schedulerShards: int(env, "SCHEDULER_SHARDS", 1, 1, 256),
    interestDebounceMs: int(env, "INTEREST_DEBOUNCE_MS", 250, 0, 10_000),
    testHooks: bool(env, "TEST_HOOKS", false),
    metrics: bool(env, "METRICS", true),
    metricsWriteMs: int(env, "METRICS_WRITE_MS", 60_000, 1_000, 3_600_000),
    symbols: parseSymbolPolicy(env.SYMBOLS ?? ""),
    maxActiveSymbols: int(env, "MAX_ACTIVE_SYMBOLS", 1_000, 1, 1_000_000),
    maxActiveSymbolsPerAddress: int(env, "MAX_ACTIVE_SYMBOLS_PER_ADDRESS", 100, 1, 1_000_000),
    symbolRetentionMs: int(env, "SYMBOL_RETENTION_MS", 2_592_000_000, 1_000, 315_360_000_000),
    apiRequestsPerSecond: int(env, "API_REQUESTS_PER_SECOND", 20, 1, 100_000),
    clientAddress: parseTrustedProxy(env.TRUSTED_PROXY, bool(env, "SELF_HOSTED", false)),
    maxConnectionsPerAddress: int(env, "MAX_CONNECTIONS_PER_ADDRESS", 500, 1, 32_768),
    inbound: inboundLimits(env),
    replayBudget: int(env, "REPLAY_BUDGET", 1_000, 1, 1_000_000),
    outbound: outboundLimits(env),
    auth: authOptions(env),
    sockjs: {
      websocket: bool(env, "SOCKJS_WEBSOCKET", true),
      cookieNeeded: bool(env, "SOCKJS_COOKIE_NEEDED", false),
      heartbeatMs: int(env, "SOCKJS_HEARTBEAT_MS", 25_000, 1_000, 3_600_000),
      disconnectDelayMs: int(env, "SOCKJS_DISCONNECT_DELAY_MS", 5_000, 100, 3_600_000),
      responseLimit: int(env, "SOCKJS_RESPONSE_LIMIT", 131_072, 1_024, 67_108_864),
      clientUrl: (env.SOCKJS_CLIENT_URL ?? "").trim() || SOCKJS_CLIENT_PATH,
    },
    sockjsTestServices: bool(env, "SOCKJS_TEST_SERVICES", false),
  };
}

function authOptions(env: Env): AuthOptions {
  const mode = (env.AUTH_MODE ?? "").trim().toLowerCase() || "open";
  if (mode !== "open" && mode !== "token") throw new Error(`config AUTH_MODE="${mode}" must be open or token`);
  const keys: TokenKeys = {};
  const set = (name: keyof TokenKeys, value: string | undefined) => {
    if (value?.trim()) keys[name] = value.trim();
  };
  set("secret", env.AUTH_JWT_SECRET);
  set("publicKey", env.AUTH_JWT_PUBLIC_KEY);
  set("jwks", env.AUTH_JWKS);
  set("audience", env.AUTH_AUDIENCE);
  set("issuer", env.AUTH_ISSUER);
  if (mode === "token" && !hasTokenKeys(keys)) {
    throw new Error("config AUTH_MODE=token needs a key: AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS");
  }
  // An hour at most (exchanges ask for 10-20 minutes): the history ring keeps every tick of the window.
  return { mode, keys, publicDelayMs: int(env, "PUBLIC_DELAY_MS", 0, 0, 3_600_000) };
}

function feedTransport(env: Env): Config["feed"]["transport"] {
  const raw = (env.FEED_TRANSPORT ?? "").trim().toLowerCase() || "auto";
  if (raw !== "stream" && raw !== "poll" && raw !== "auto")
    throw new Error(`config FEED_TRANSPORT="${raw}" must be stream, poll or auto`);
  return raw;
}

function simUniverse(env: Env): "builtin" | "any" {
  const raw = (env.SIM_UNIVERSE ?? "").trim().toLowerCase() || "builtin";
  if (raw !== "builtin" && raw !== "any") throw new Error(`config SIM_UNIVERSE="${raw}" must be builtin or any`);
  return raw;
}

function inboundLimits(env: Env): Config["inbound"] {
  const messagesPerSecond = int(env, "INBOUND_MESSAGES_PER_SECOND", 20, 1, 10_000);
  const bytesPerSecond = int(env, "INBOUND_BYTES_PER_SECOND", 65_536, 1_024, 67_108_864);
  const maxFrame = int(env, "MAX_FRAME_BYTES", 65_536, 1024, 1_048_576);
  // A page subscribing to a whole watchlist at connect sends one frame per symbol at once.
  const subscriptions = int(env, "MAX_SUBSCRIPTIONS", 100, 1, 100);
  const framesPerSecond = int(env, "INBOUND_FRAMES_PER_SECOND", 20, 1, 10_000);
  return {
    messagesPerSecond,
    bytesPerSecond,
    messageBurst: Math.max(2 * messagesPerSecond, subscriptions + 10),
    byteBurst: Math.max(2 * bytesPerSecond, 2 * maxFrame),
    framesPerSecond,
    // Re-subscribing a whole watchlist (an UNSUBSCRIBE and a SUBSCRIBE each) fits in one burst.
    frameBurst: Math.max(2 * framesPerSecond, 2 * subscriptions + 10),
  };
}

function outboundLimits(env: Env): OutboundLimits {
  const bytesPerSecond = int(env, "OUTBOUND_BYTES_PER_SECOND", 131_072, 1_024, 67_108_864);
  // A burst holds a 100-symbol snapshot and a full replay budget many times over.
  return { bytesPerSecond, byteBurst: 8 * bytesPerSecond };
}

/** Where this worker serves its own copy of sockjs-client. */
export const SOCKJS_CLIENT_PATH = "/lib/sockjs.min.js";

/** The string vars of Env (not the bindings). */
type VarName = { [K in keyof Env]-?: Env[K] extends string | undefined ? K : never }[keyof Env];

function bool(env: Env, name: VarName, fallback: boolean): boolean {
  const raw = (env[name] ?? "").trim().toLowerCase();
  if (raw === "") return fallback;
  if (raw !== "true" && raw !== "false") throw new Error(`config ${name}="${raw}" must be true or false`);
  return raw === "true";
}

function int(env: Env, name: VarName, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`config ${name}="${String(raw)}" must be an integer from ${min} to ${max}`);
  }
  return value;
}
