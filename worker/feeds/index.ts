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

/** Each provider's public API; FEED_BASE_URL overrides it. */
const PROVIDERS = {
  finnhub: { baseUrl: "https://finnhub.io", create: (o: HttpFeedOptions) => new FinnhubFeed(o) },
  twelvedata: { baseUrl: "https://api.twelvedata.com", create: (o: HttpFeedOptions) => new TwelveDataFeed(o) },
  alpaca: { baseUrl: "https://data.alpaca.markets", create: (o: HttpFeedOptions, c: Config) => new AlpacaFeed(o, c.feed.alpacaDataFeed) },
  polygon: { baseUrl: "https://api.polygon.io", create: (o: HttpFeedOptions) => new PolygonFeed(o) },
  coinbase: { baseUrl: "https://api.exchange.coinbase.com", create: (o: HttpFeedOptions) => new CoinbaseFeed(o) },
  binance: { baseUrl: "https://api.binance.com", create: (o: HttpFeedOptions) => new BinanceFeed(o) },
} as const satisfies Record<string, { baseUrl: string; create: (o: HttpFeedOptions, c: Config) => FeedProvider }>;

const FEED_NAMES = ["sim", ...Object.keys(PROVIDERS)];

/** The feed named by FEED_PROVIDER; an unknown name or a missing key fails loudly, naming the fix. */
export function createFeed(config: Config): FeedProvider {
  if (config.feedProvider === "sim") return new SimulatorFeed(config.simSeed, config.tickIntervalMs, config.simAnySymbol);
  if (!Object.hasOwn(PROVIDERS, config.feedProvider)) {
    throw new Error(`config FEED_PROVIDER="${config.feedProvider}" is not a known provider (available: ${FEED_NAMES.join(", ")})`);
  }
  const provider = PROVIDERS[config.feedProvider as keyof typeof PROVIDERS];
  const { baseUrl, key, secret, timeoutMs, retries } = config.feed;
  const feed = provider.create({ baseUrl: baseUrl ?? provider.baseUrl, key, secret, timeoutMs, retries }, config);
  if (feed.capabilities.needsKey && !key) {
    throw new Error(`FEED_PROVIDER=${feed.id} needs an API key: \`wrangler secret put FEED_API_KEY\` (locally: .dev.vars)`);
  }
  if (feed.id === "alpaca" && !secret) {
    throw new Error("FEED_PROVIDER=alpaca needs its secret key too: `wrangler secret put FEED_API_SECRET`");
  }
  return feed;
}
