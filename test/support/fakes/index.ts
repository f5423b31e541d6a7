import type { AlpacaPlan } from "../../fixtures/providers/alpaca";
import { REAL_CLOCK, type ShiftedClock } from "../clock";
import { alpacaRest, alpacaStream } from "./dialects/alpaca";
import { binanceRest, binanceStream } from "./dialects/binance";
import { coinbaseRest, coinbaseStream } from "./dialects/coinbase";
import { finnhubRest, finnhubStream } from "./dialects/finnhub";
import { polygonRest, polygonStream } from "./dialects/polygon";
import { Market } from "./market";
import { type FakeRestServer, type RestBehaviour, type RestDialect, startRestServer } from "./rest-server";
import type { StreamBehaviour, StreamDialect } from "./stream-dialect";
import { type FakeStreamServer, startStreamServer } from "./stream-server";

/**
 * A provider faked as its documents describe it: one market (the truth), its REST API and
 * its stream on 127.0.0.1, and the worker vars that point Edge Ticker at them.
 */
export type ProviderName = "finnhub" | "alpaca" | "polygon" | "coinbase" | "binance";

/** The key the fakes accept (and Alpaca's secret for it). */
export const GOOD_KEY = "good-key";
export const GOOD_SECRET = "good-secret";
/** How late a delayed feed is (Alpaca delayed_sip, Polygon's delayed host). */
export const PROVIDER_DELAY_MS = 900_000;

export interface FakeProviderOptions {
  clock?: ShiftedClock;
  /** The provider's delayed feed (Alpaca delayed_sip, Polygon's delayed host): trades 15 minutes late. */
  delayed?: boolean;
  /** Alpaca's plan (Basic: iex, delayed_sip, 30 symbols; Algo Trader Plus: sip, no limit). */
  alpacaPlan?: AlpacaPlan;
  stream?: Partial<StreamBehaviour>;
  rest?: Partial<RestBehaviour>;
}

export interface FakeProvider {
  name: ProviderName;
  market: Market;
  stream: FakeStreamServer;
  rest: FakeRestServer;
  /** FEED_PROVIDER, FEED_BASE_URL, FEED_STREAM_URL, the key (and secret, feed) for the worker. */
  vars: Record<string, string>;
  close(): Promise<void>;
}

interface Profile {
  stream: StreamDialect;
  rest: RestDialect;
  behaviour: Partial<StreamBehaviour>;
  path: string;
  vars: Record<string, string>;
}

function profile(name: ProviderName, o: FakeProviderOptions): Profile {
  switch (name) {
    case "finnhub":
      // Finnhub's ping interval is not documented: every 5 s here.
      return { stream: finnhubStream, rest: finnhubRest, behaviour: { appPingMs: 5_000 }, path: "/", vars: {} };
    case "alpaca": {
      const plan = o.alpacaPlan ?? (o.delayed ? "basic" : "algo-trader-plus");
      return {
        stream: alpacaStream(plan),
        rest: alpacaRest(plan),
        behaviour: {},
        path: "/v2/{feed}",
        vars: {
          FEED_API_SECRET: GOOD_SECRET,
          ALPACA_DATA_FEED: o.delayed ? "delayed_sip" : plan === "basic" ? "iex" : "sip",
        },
      };
    }
    case "polygon":
      return {
        stream: polygonStream,
        rest: polygonRest,
        behaviour: {},
        path: o.delayed ? "/delayed/stocks" : "/stocks",
        vars: {},
      };
    case "coinbase":
      return {
        stream: coinbaseStream,
        rest: coinbaseRest,
        behaviour: { snapshotOnSubscribe: true, oneConnectionPerKey: false },
        path: "/",
        vars: {},
      };
    case "binance":
      return {
        stream: binanceStream,
        rest: binanceRest,
        behaviour: { protocolPingMs: 20_000, pongTimeoutMs: 60_000, oneConnectionPerKey: false },
        path: "/stream",
        vars: {},
      };
  }
}

export async function startFakeProvider(name: ProviderName, options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const clock = options.clock ?? REAL_CLOCK;
  const market = new Market(clock, options.delayed ? PROVIDER_DELAY_MS : 0);
  const credentials = new Map([[GOOD_KEY, GOOD_SECRET]]);
  const p = profile(name, options);
  const stream = await startStreamServer(p.stream, market, credentials, { ...p.behaviour, ...options.stream });
  const rest = await startRestServer(p.rest, { market, credentials }, options.rest);
  return {
    name,
    market,
    stream,
    rest,
    vars: {
      FEED_PROVIDER: name,
      FEED_BASE_URL: rest.url,
      FEED_STREAM_URL: `${stream.url}${p.path}`,
      FEED_API_KEY: GOOD_KEY,
      ...p.vars,
    },
    close: async () => {
      await stream.close();
      await rest.close();
    },
  };
}
