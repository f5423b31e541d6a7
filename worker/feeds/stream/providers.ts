import type { StreamCodec, StreamCodecOptions } from "./codec";
import { AlpacaStream } from "./codecs/alpaca";
import { BinanceStream } from "./codecs/binance";
import { CoinbaseStream } from "./codecs/coinbase";
import { FinnhubStream } from "./codecs/finnhub";
import { PolygonStream } from "./codecs/polygon";
import { SimStream } from "./sim-stream";

export { AlpacaStream, BinanceStream, CoinbaseStream, FinnhubStream, PolygonStream };

/** One codec per provider, each following the provider's documented stream protocol (`codecs/`). */
const CODECS = {
  finnhub: FinnhubStream,
  alpaca: AlpacaStream,
  coinbase: CoinbaseStream,
  binance: BinanceStream,
  polygon: PolygonStream,
} as const;

/** Providers whose trades stream; the rest (twelvedata on its free plan, the simulator) are polled. */
export const STREAMING_PROVIDERS = Object.keys(CODECS);

/** A fresh codec for one connection, or undefined when the provider does not stream (the simulator streams when asked to). */
export function createStreamCodec(provider: string, options: StreamCodecOptions): StreamCodec | undefined {
  if (provider === "sim") return new SimStream();
  if (!Object.hasOwn(CODECS, provider)) return undefined;
  return new CODECS[provider as keyof typeof CODECS](options);
}
