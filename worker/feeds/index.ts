import type { Config } from "../config";
import { AlpacaFeed } from "./adapters/alpaca";
import { BinanceFeed } from "./adapters/binance";
import { CoinbaseFeed } from "./adapters/coinbase";
import { FinnhubFeed } from "./adapters/finnhub";
import { PolygonFeed } from "./adapters/polygon";
import { TwelveDataFeed } from "./adapters/twelvedata";
import type { HttpFeedOptions } from "./http-feed";
import type { FeedProvider } from "./provider";
import { SimulatorFeed } from "./simulator";
import { STREAMING_PROVIDERS } from "./stream/providers";

/** Each provider's public API; FEED_BASE_URL overrides it. */
const PROVIDERS = {
  finnhub: { baseUrl: "https://finnhub.io", create: (o: HttpFeedOptions) => new FinnhubFeed(o) },
  twelvedata: { baseUrl: "https://api.twelvedata.com", create: (o: HttpFeedOptions) => new TwelveDataFeed(o) },
  alpaca: {
    baseUrl: "https://data.alpaca.markets",
    create: (o: HttpFeedOptions, c: Config) => new AlpacaFeed(o, c.feed.alpacaDataFeed),
  },
  polygon: { baseUrl: "https://api.polygon.io", create: (o: HttpFeedOptions) => new PolygonFeed(o) },
  coinbase: { baseUrl: "https://api.exchange.coinbase.com", create: (o: HttpFeedOptions) => new CoinbaseFeed(o) },
  binance: { baseUrl: "https://api.binance.com", create: (o: HttpFeedOptions) => new BinanceFeed(o) },
} as const satisfies Record<string, { baseUrl: string; create: (o: HttpFeedOptions, c: Config) => FeedProvider }>;

const FEED_NAMES = ["sim", ...Object.keys(PROVIDERS)];

/** The feed named by FEED_PROVIDER; an unknown name or a missing key fails loudly, naming the fix. */
export function createFeed(config: Config): FeedProvider {
  if (config.feedProvider === "sim")
    return new SimulatorFeed(config.simSeed, config.tickIntervalMs, config.simAnySymbol);
  if (!Object.hasOwn(PROVIDERS, config.feedProvider)) {
    throw new Error(
      `config FEED_PROVIDER="${config.feedProvider}" is not a known provider (available: ${FEED_NAMES.join(", ")})`,
    );
  }
  const provider = PROVIDERS[config.feedProvider as keyof typeof PROVIDERS];
  const { baseUrl, key, secret, timeoutMs, retries } = config.feed;
  const feed = provider.create({ baseUrl: baseUrl ?? provider.baseUrl, key, secret, timeoutMs, retries }, config);
  if (feed.capabilities.needsKey && !key) {
    throw new Error(
      `FEED_PROVIDER=${feed.id} needs an API key: \`wrangler secret put FEED_API_KEY\` (locally: .dev.vars)`,
    );
  }
  if (feed.id === "alpaca" && !secret) {
    throw new Error("FEED_PROVIDER=alpaca needs its secret key too: `wrangler secret put FEED_API_SECRET`");
  }
  return feed;
}

/**
 * Whether prices stream from the provider's WebSocket (FEED_TRANSPORT): `auto` streams where
 * the provider has a stream (and FEED_BASE_URL does not send REST through a proxy without
 * FEED_STREAM_URL saying where its stream is), `stream` insists (and fails loudly where there is none).
 */
export function streamsPrices(config: Config): boolean {
  if (config.feed.transport === "poll") return false;
  // The simulator streams only when asked (FEED_TRANSPORT=stream): its polled cadence is the default demo's.
  if (config.feedProvider === "sim") return config.feed.transport === "stream";
  const has = STREAMING_PROVIDERS.includes(config.feedProvider);
  if (config.feed.transport === "stream" && !has) {
    throw new Error(
      `config FEED_TRANSPORT=stream: FEED_PROVIDER=${config.feedProvider} has no stream (streaming: ${STREAMING_PROVIDERS.join(", ")})`,
    );
  }
  // auto with a REST base of its own (a proxy, a test server) but no stream URL: the stream would bypass it.
  return (
    has &&
    (config.feed.transport === "stream" || config.feed.streamUrl !== undefined || config.feed.baseUrl === undefined)
  );
}
