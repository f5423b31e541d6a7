/**
 * Every provider adapter against a real HTTP server on 127.0.0.1 that answers in that
 * provider's documented format: normalization, batching, auth, unknown symbols and
 * each fault (429 + Retry-After, error-as-200, HTML, truncated JSON, non-numeric
 * prices, timeouts, 5xx with retry).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readConfig } from "../../worker/config";
import type { Env } from "../../worker/env";
import { createFeed } from "../../worker/feeds";
import type { QuoteResult } from "../../worker/feeds/provider";
import { type FakeProviders, GOOD_KEY, PRICE, startFakeProviders } from "../support/fake-providers";

let fake: FakeProviders;
beforeAll(async () => {
  fake = await startFakeProviders();
});
afterAll(async () => fake?.close());

interface Case {
  provider: string;
  /** Symbol for a scenario base (AAPL → AAPL for stocks, BTC-USD for crypto). */
  sym: (base: string) => string;
  ts: number;
  batchSize: number;
  keyed: boolean;
  unsupported: string;
  /** HTTP requests per batch (Coinbase adds the day's candle to each ticker). */
  requests?: number;
}

const stock = (base: string) => (base === "OK" ? "AAPL" : base === "OK2" ? "MSFT" : base);
const crypto = (base: string) => (base === "OK" ? "BTC-USD" : base === "OK2" ? "ETH-USD" : `${base}-USD`);

const CASES: Case[] = [
  { provider: "finnhub", sym: stock, ts: 1_795_000_000_000, batchSize: 1, keyed: true, unsupported: "BTC-USD" },
  { provider: "twelvedata", sym: stock, ts: 1_795_000_000_000, batchSize: 8, keyed: true, unsupported: "^GSPC" },
  {
    provider: "alpaca",
    sym: stock,
    ts: Date.parse("2026-11-20T15:30:00.123Z"),
    batchSize: 100,
    keyed: true,
    unsupported: "EURUSD=X",
  },
  { provider: "polygon", sym: stock, ts: 1_795_000_000_123, batchSize: 100, keyed: true, unsupported: "BTC-USD" },
  {
    provider: "coinbase",
    sym: crypto,
    ts: Date.parse("2026-11-20T15:30:00.123Z"),
    batchSize: 1,
    keyed: false,
    unsupported: "AAPL",
    requests: 2,
  },
  { provider: "binance", sym: crypto, ts: 1_795_000_000_123, batchSize: 100, keyed: false, unsupported: "AAPL" },
];

function feed(provider: string, vars: Partial<Env> = {}) {
  return createFeed(
    readConfig({
      FEED_PROVIDER: provider,
      FEED_BASE_URL: fake.url,
      FEED_API_KEY: GOOD_KEY,
      FEED_API_SECRET: "good-secret",
      FEED_TIMEOUT_MS: "500",
      FEED_RETRIES: "1",
      ...vars,
    } as Env),
  );
}

const ask = (f: ReturnType<typeof feed>, symbols: string[]) =>
  f.quotes(
    symbols.map((symbol) => ({ symbol })),
    Date.now(),
  );
/** A result's fault as `kind: reason` (its typed parts: the tests read both). */
const errorOf = (r: QuoteResult | undefined) =>
  r && "fault" in r ? `${r.fault.kind}: ${r.fault.reason}` : `no error: ${JSON.stringify(r)}`;

describe.each(CASES)("$provider", (c) => {
  it("normalizes a quote: price, epoch-ms time, session fields, source", async () => {
    const before = fake.requests.length;
    const [result] = await ask(feed(c.provider), [c.sym("OK")]);
    expect(result).toEqual({
      symbol: c.sym("OK"),
      quote: expect.objectContaining({ symbol: c.sym("OK"), price: PRICE, ts: c.ts, source: c.provider }),
    });
    const quote = (result as unknown as { quote: Record<string, unknown> }).quote;
    for (const value of Object.values(quote)) expect(value).not.toBeUndefined();
    expect(fake.requests.length - before).toBe(c.requests ?? 1);
  });

  it(`batches up to ${c.batchSize} symbols per request`, async () => {
    const before = fake.requests.length;
    const results = await ask(feed(c.provider), [c.sym("OK"), c.sym("OK2")]);
    expect(results.map((r) => ("quote" in r ? r.quote.price : errorOf(r)))).toEqual([PRICE, PRICE]);
    expect(fake.requests.length - before).toBe((c.batchSize >= 2 ? 1 : 2) * (c.requests ?? 1));
  });

  it("refuses symbols it cannot serve with a reason, without a request", async () => {
    const before = fake.requests.length;
    const [result] = await ask(feed(c.provider), [c.unsupported]);
    expect(errorOf(result)).toMatch(
      new RegExp(`${c.provider}.*${c.unsupported.replace(/[.^$*+?()[\]{}|\\]/g, "\\$&")}`),
    );
    expect(fake.requests.length).toBe(before);
  });

  it("reports an unknown symbol as an error, without failing the others in its batch", async () => {
    const [bad, good] = await ask(feed(c.provider), [c.sym("NOPE"), c.sym("OK")]);
    expect(errorOf(bad)).toMatch(/^unknown-symbol/);
    expect(good).toEqual(expect.objectContaining({ quote: expect.objectContaining({ price: PRICE }) }));
  });

  if (c.provider === "alpaca" || c.provider === "polygon") {
    it("takes the day's close, not a newest print that sets no last price (an odd lot)", async () => {
      const [result] = await ask(feed(c.provider), [c.sym("ODDLOT")]);
      expect(result).toEqual(expect.objectContaining({ quote: expect.objectContaining({ price: PRICE }) }));
    });
  }

  if (c.keyed) {
    it("classifies a refused key as auth", async () => {
      const [result] = await ask(feed(c.provider, { FEED_API_KEY: "bad-key" }), [c.sym("OK")]);
      expect(errorOf(result)).toMatch(/^auth:/);
    });
  }

  it("honours 429 Retry-After: no further requests until it has passed", async () => {
    // The cooldown is read from the clock: only Date is faked, the fake server's sockets run for real.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    try {
      const f = feed(c.provider);
      const [first] = await ask(f, [c.sym("RATE")]);
      expect(errorOf(first)).toMatch(/^rate-limit:/);
      const before = fake.requests.length;
      const [second] = await ask(f, [c.sym("OK")]);
      expect(errorOf(second)).toMatch(/^rate-limit: waiting \d+ s/);
      expect(fake.requests.length).toBe(before);
      vi.setSystemTime(Date.now() + 2_100);
      const [third] = await ask(f, [c.sym("OK")]);
      expect(third).toEqual(expect.objectContaining({ quote: expect.objectContaining({ price: PRICE }) }));
    } finally {
      vi.useRealTimers();
    }
  });

  it("classifies HTML pages, truncated JSON and non-numeric prices", async () => {
    const f = feed(c.provider);
    expect(errorOf((await ask(f, [c.sym("HTML")]))[0])).toMatch(/^html:/);
    expect(errorOf((await ask(f, [c.sym("TRUNC")]))[0])).toMatch(/^malformed:/);
    expect(errorOf((await ask(f, [c.sym("NAN")]))[0])).toMatch(/^malformed: no valid/);
    expect(errorOf((await ask(f, [c.sym("NEG")]))[0])).toMatch(/^malformed: no valid/);
    // A throttle notice in a 200 body is a rate limit (it starts a cooldown, so it goes last).
    expect(errorOf((await ask(f, [c.sym("NOTE")]))[0])).toMatch(/^rate-limit: throttled: Thank you/);
  });

  it("times out a slow answer and retries a 5xx once", async () => {
    const started = Date.now();
    const [slow] = await ask(feed(c.provider, { FEED_RETRIES: "0", FEED_TIMEOUT_MS: "150" }), [c.sym("SLOW")]);
    expect(errorOf(slow)).toMatch(/^timeout: no answer within 150 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    const [boom] = await ask(feed(c.provider), [c.sym("BOOM")]);
    expect(boom).toEqual(expect.objectContaining({ quote: expect.objectContaining({ price: PRICE }) }));
  });
});

it("fails loudly when a provider needs a key that is missing, or the provider is unknown", () => {
  expect(() => feed("finnhub", { FEED_API_KEY: "" })).toThrow(/needs an API key: `wrangler secret put FEED_API_KEY`/);
  expect(() => feed("alpaca", { FEED_API_SECRET: "" })).toThrow(/FEED_API_SECRET/);
  expect(() => feed("nasdaq-direct")).toThrow(
    /not a known provider \(available: sim, finnhub, twelvedata, alpaca, polygon, coinbase, binance\)/,
  );
});

describe("day volume from REST", () => {
  it("snapshots give the day's volume; crypto exchanges' rolling 24-hour figures are never one", async () => {
    const quoteOf = async (provider: string, symbol: string) => {
      const [r] = await ask(feed(provider), [symbol]);
      return (r as unknown as { quote: Record<string, unknown> }).quote;
    };
    // Coinbase: the ticker's volume is 24 hours; the UTC day's candle says the day's.
    expect(await quoteOf("coinbase", "BTC-USD")).toMatchObject({ volume24h: 1000.5, dayVolume: 5000.25, open: 122 });
    // Binance: the trading-day ticker, not the rolling one.
    const binance = await quoteOf("binance", "BTC-USD");
    expect(binance).toMatchObject({ dayVolume: 1000.5, prevClose: 122 });
    expect(fake.requests.at(-1)!.path).toBe("/api/v3/ticker/tradingDay");
    for (const q of [await quoteOf("coinbase", "BTC-USD"), binance]) expect(q.volume).toBeUndefined();
  });
});
