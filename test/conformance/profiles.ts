import type { ProviderName } from "../support/fakes";

/**
 * The conformance suite's two tables: the cases (from issue 34's "Done when") and, per
 * provider profile, which cases apply. A case that does not apply says why here, and the
 * suite does not run it.
 */
export const CASES = {
  "first-price":
    "with 50 symbols streamed at a 60-requests-a-minute budget, every viewer has every traded symbol's first price within 2 s of its first trade",
  "day-volume": "the viewer's day volume and /api/quotes volume are within 1% of the provider's day volume",
  "last-eligible":
    "a print that is not last-eligible (out of sequence, odd lot, average price) never becomes the last price",
  "refused-polled": "a symbol the provider refuses has a polled price within two polling periods",
  "silent-polled": "a symbol the provider acknowledges but never streams has a polled price within two polling periods",
  "gap-once": "exactly one gap-marked tick per symbol per outage, carrying the caught-up price",
  "bars-handover":
    "1-minute bar volumes are the sizes traded in their minutes across a stream → poll → stream hand-over, with no spike",
  "day-volume-after-outage": "after the outage (and any replay on resubscribe) the day volume still agrees within 1%",
  "delayed-bars": "a delayed feed's trades (stamped 15 minutes early) form their bars",
  "one-connection": "with SCHEDULER_SHARDS=4 the provider never sees two authenticated connections for one key",
  "reconnect-storm":
    "an upstream that closes every connection right after it authenticates sees at most 6 connection attempts in 15 s",
} as const;

export type CaseId = keyof typeof CASES;

export interface Profile {
  id: string;
  provider: ProviderName;
  /** The provider's delayed feed. */
  delayed: boolean;
  /** Our symbol for a base name (VOLA → VOLA, or VOLA-USD for crypto). */
  symbol(base: string): string;
  /** The provider's name for our symbol (BTC-USD → BTCUSDT on Binance). */
  theirs(symbol: string): string;
  /** A trade's size: whole shares, or coins. */
  size(i: number): number;
  /** Symbols per REST request (how many requests a polling round of n symbols takes). */
  perRequest: number;
  /** The day's volume before the fake's first trade: shares, or coins. */
  dayBefore: number;
  /** Whether the provider reports the day's volume (Finnhub's quote has none: what traded unseen cannot be known). */
  reportsVolume: boolean;
  /** true: the case runs; a string: why it does not apply. */
  applies: Record<CaseId, true | string>;
  /** Extra worker vars. */
  vars?: Record<string, string>;
}

const equity = (base: string) => base;
const crypto = (base: string) => `${base}-USD`;
const shares = (i: number) => 100 * (1 + (i % 7)) + (i % 3 === 0 ? 37 : 0);
const coins = (i: number) => Math.round((0.01 + (i % 9) * 0.013) * 1e6) / 1e6;

const NO_CONDITIONS = "crypto venues have no trade conditions: every print is last-eligible";
const NO_DELAYED_FEED = "the provider has no delayed feed";
const NO_KEY = "public market data: no key to hold connections for (per-address limits only)";

const ALL: Record<CaseId, true> = {
  "first-price": true,
  "day-volume": true,
  "last-eligible": true,
  "refused-polled": true,
  "silent-polled": true,
  "gap-once": true,
  "bars-handover": true,
  "day-volume-after-outage": true,
  "delayed-bars": true,
  "one-connection": true,
  "reconnect-storm": true,
};

/** Only the cases a delayed feed adds, and the ones whose meaning changes with it: the rest run on the real-time profile. */
const DELAYED_ONLY = "runs on the provider's real-time profile (one server per profile keeps the suite's time down)";

export const PROFILES: Record<string, Profile> = {
  finnhub: {
    id: "finnhub",
    provider: "finnhub",
    delayed: false,
    symbol: equity,
    theirs: equity,
    size: shares,
    perRequest: 1,
    dayBefore: 250_000,
    reportsVolume: false,
    applies: {
      ...ALL,
      "last-eligible":
        "Finnhub's condition codes are numeric and their table (a spreadsheet its docs link) is not published with the API: no print can be told apart",
      "refused-polled": "Finnhub documents no refusal of a symbol: one it does not know is silent (silent-polled)",
      "delayed-bars": NO_DELAYED_FEED,
    },
  },
  alpaca: {
    id: "alpaca",
    provider: "alpaca",
    delayed: false,
    symbol: equity,
    theirs: equity,
    size: shares,
    perRequest: 100,
    dayBefore: 250_000,
    reportsVolume: true,
    applies: { ...ALL, "delayed-bars": "runs on alpaca-delayed (the delayed_sip feed)" },
  },
  "alpaca-delayed": {
    id: "alpaca-delayed",
    provider: "alpaca",
    delayed: true,
    symbol: equity,
    theirs: equity,
    size: shares,
    perRequest: 100,
    dayBefore: 250_000,
    reportsVolume: true,
    applies: {
      "first-price": DELAYED_ONLY,
      "day-volume": true,
      "last-eligible": DELAYED_ONLY,
      "refused-polled": DELAYED_ONLY,
      "silent-polled": DELAYED_ONLY,
      "gap-once": DELAYED_ONLY,
      "bars-handover": DELAYED_ONLY,
      "day-volume-after-outage": DELAYED_ONLY,
      "delayed-bars": true,
      "one-connection": true,
      "reconnect-storm": DELAYED_ONLY,
    },
  },
  polygon: {
    id: "polygon",
    provider: "polygon",
    delayed: false,
    symbol: equity,
    theirs: equity,
    size: shares,
    perRequest: 100,
    dayBefore: 250_000,
    reportsVolume: true,
    applies: {
      ...ALL,
      "refused-polled":
        "Polygon documents no refusal of a ticker: one it does not list is acknowledged and silent (silent-polled)",
      "delayed-bars": "runs on polygon-delayed (the delayed host)",
    },
  },
  "polygon-delayed": {
    id: "polygon-delayed",
    provider: "polygon",
    delayed: true,
    symbol: equity,
    theirs: equity,
    size: shares,
    perRequest: 100,
    dayBefore: 250_000,
    reportsVolume: true,
    applies: {
      "first-price": DELAYED_ONLY,
      "day-volume": true,
      "last-eligible": DELAYED_ONLY,
      "refused-polled": DELAYED_ONLY,
      "silent-polled": DELAYED_ONLY,
      "gap-once": DELAYED_ONLY,
      "bars-handover": DELAYED_ONLY,
      "day-volume-after-outage": DELAYED_ONLY,
      "delayed-bars": true,
      "one-connection": true,
      "reconnect-storm": DELAYED_ONLY,
    },
  },
  coinbase: {
    id: "coinbase",
    provider: "coinbase",
    delayed: false,
    symbol: crypto,
    theirs: (s) => s,
    size: coins,
    perRequest: 1,
    dayBefore: 8_000,
    reportsVolume: true,
    applies: { ...ALL, "last-eligible": NO_CONDITIONS, "delayed-bars": NO_DELAYED_FEED, "one-connection": NO_KEY },
  },
  binance: {
    id: "binance",
    provider: "binance",
    delayed: false,
    symbol: crypto,
    theirs: (s) => s.replace(/-USD$/, "USDT").replace("-", ""),
    size: coins,
    perRequest: 100,
    dayBefore: 8_000,
    reportsVolume: true,
    applies: {
      ...ALL,
      "last-eligible": NO_CONDITIONS,
      "refused-polled":
        "Binance acknowledges every well-formed stream name: a pair it does not list is silent (silent-polled)",
      "delayed-bars": NO_DELAYED_FEED,
      "one-connection": NO_KEY,
    },
  },
};
