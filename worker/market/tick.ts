import { VOLUME_ATTRIBUTION_MS, volumeFigures } from "./day-volume";
import { type MarketState, marketState, tradingDay } from "./hours";
import { normalizeSymbol, SymbolError } from "./symbol";

/** A price observation from a feed or a publisher, before the symbol's object numbers it. */
export interface Quote {
  symbol: string;
  price: number;
  /** Epoch ms of the observation; the receiving object's clock when absent. */
  ts?: number;
  source: string;
  open?: number;
  high?: number;
  low?: number;
  prevClose?: number;
  /**
   * Shares (coins) traded in this observation: a stream window's trades that count toward
   * volume, summed. On a tick: what traded in it (0 when nothing did).
   */
  size?: number;
  /**
   * The session's running volume (the provider's day figure, or the previous total plus
   * `size`), reset when the symbol's trading day changes; absent until a day figure is known.
   */
  dayVolume?: number;
  /**
   * Deprecated, kept for old clients: on a tick always the same as `dayVolume`. On input
   * (a publisher's tick, a feed's quote) it means the day's cumulative volume, as it always did.
   */
  volume?: number;
  /** A provider's rolling 24-hour volume (crypto exchanges' REST tickers): never a day volume. */
  volume24h?: number;
  bid?: number;
  ask?: number;
  currency?: string;
  marketState?: MarketState;
  /** The first price after an outage of the upstream stream: trades in between were not seen. */
  gap?: true;
  /** The provider itself delays this feed (Alpaca delayed_sip, Polygon's delayed host) by `delayMs`. */
  delayed?: true;
  delayMs?: number;
}

/** What subscribers receive: the broker contract's MESSAGE body. */
export interface Tick extends Quote {
  ts: number;
  /** Strictly increasing per symbol, persisted across restarts. */
  seq: number;
  change: number;
  changePercent: number;
  stale?: boolean;
  /**
   * How long after this tick, without a newer one, the price counts as stale: the server
   * re-sends it with `stale: true` then, and the page and widget mark it at the same time.
   */
  staleAfterMs?: number;
}

export class QuoteError extends Error {}

const MARKET_STATES: ReadonlySet<string> = new Set(["PRE", "REGULAR", "POST", "CLOSED"]);
const OPTIONAL_NUMBERS = ["open", "high", "low", "prevClose", "bid", "ask"] as const;
/** Published volume fields: `volume` (the day's cumulative, as before), `dayVolume` (the same), `size`, `volume24h`. */
const VOLUME_FIELDS = ["volume", "dayVolume", "size", "volume24h"] as const;
/**
 * Prices outside this range are a mistake or an attack (BRK.A is under 1e6, the smallest
 * crypto quotes near 1e-8); within it, change and changePercent stay finite.
 */
const MIN_PRICE = 1e-9;
const MAX_PRICE = 1e9;
const MAX_VOLUME = 1e15;
// Published timestamps must be plausible epoch milliseconds (2000-01-01 .. 2100-01-01).
const MIN_TS = 946_684_800_000;
const MAX_TS = 4_102_444_800_000;

/**
 * Validates a published tick (HTTP or STOMP SEND). `symbol` may come from the
 * destination instead of the body; fields the server owns (seq, change) are ignored.
 */
export function parseQuoteInput(raw: unknown, symbolFromRoute?: string): Quote {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new QuoteError("a tick must be a JSON object");
  }
  const input = raw as Record<string, unknown>;
  let symbol = symbolFromRoute;
  if (input.symbol !== undefined) {
    if (typeof input.symbol !== "string") throw new QuoteError("symbol must be a string");
    try {
      const bodySymbol = normalizeSymbol(input.symbol);
      if (symbol !== undefined && bodySymbol !== symbol) {
        throw new QuoteError(`symbol ${bodySymbol} does not match destination symbol ${symbol}`);
      }
      symbol = bodySymbol;
    } catch (err) {
      throw err instanceof SymbolError ? new QuoteError(err.message) : err;
    }
  }
  if (symbol === undefined) throw new QuoteError("symbol is required");
  const quote: Quote = { symbol, price: positive(input.price, "price", true)!, source: "publish" };
  for (const field of OPTIONAL_NUMBERS) {
    const value = positive(input[field], field, false);
    if (value !== undefined) quote[field] = value;
  }
  for (const field of VOLUME_FIELDS) {
    const value = nonNegative(input[field], field);
    if (value !== undefined) quote[field] = value;
  }
  if (input.ts !== undefined) {
    if (typeof input.ts !== "number" || !Number.isInteger(input.ts) || input.ts < MIN_TS || input.ts > MAX_TS) {
      throw new QuoteError("ts must be epoch milliseconds");
    }
    quote.ts = input.ts;
  }
  if (input.currency !== undefined) {
    if (typeof input.currency !== "string" || !/^[A-Z]{3}$/.test(input.currency)) {
      throw new QuoteError("currency must be a 3-letter ISO code");
    }
    quote.currency = input.currency;
  }
  if (input.marketState !== undefined) {
    if (typeof input.marketState !== "string" || !MARKET_STATES.has(input.marketState)) {
      throw new QuoteError("marketState must be one of PRE, REGULAR, POST, CLOSED");
    }
    quote.marketState = input.marketState as MarketState;
  }
  if (input.source !== undefined) {
    if (typeof input.source !== "string" || !/^[\w.-]{1,32}$/.test(input.source)) {
      throw new QuoteError("source must be 1-32 characters of letters, digits, _ . -");
    }
    quote.source = input.source;
  }
  return quote;
}

function positive(value: unknown, field: string, required: boolean): number | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < MIN_PRICE || value > MAX_PRICE) {
    throw new QuoteError(`${field} must be a number from ${MIN_PRICE} to ${MAX_PRICE}`);
  }
  return value;
}

function nonNegative(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_VOLUME) {
    throw new QuoteError(`${field} must be a non-negative number up to ${MAX_VOLUME}`);
  }
  return value;
}

/**
 * A feed's quote observed before the newest tick of the same feed: a REST poll answered
 * after the stream had carried a newer trade (they cross when one hands over to the other).
 * Taking it would move the price backwards.
 */
export function isOutOfOrder(latest: Tick | undefined, quote: Quote): boolean {
  return latest !== undefined && quote.ts !== undefined && latest.source === quote.source && quote.ts < latest.ts;
}

/** Where a provider's day figure (a REST poll's, without sizes) counted trades through: its source's newest trade time. */
export interface FigureThrough {
  source: string;
  ts: number;
}

/** What a committed quote's day figure counts trades through, if it is a figure without sizes (a poll). */
export function figureThrough(quote: Quote & { ts: number }): FigureThrough | undefined {
  const figure = quote.size === undefined && (quote.dayVolume ?? quote.volume) !== undefined;
  return figure ? { source: quote.source, ts: quote.ts } : undefined;
}

/**
 * A streamed window (it says its size) of the figure's source, stamped no later than the trade
 * that figure counted through: the poll crossed the stream and the figure has the window's
 * trades already, so its size is 0; its price stands. A different trade in the same
 * millisecond is then missing from the bars: rarer than a poll crossing the stream.
 */
export function countedOnce(quote: Quote, figure: FigureThrough | undefined): Quote {
  const covered = figure?.source === quote.source && quote.ts !== undefined && quote.ts <= figure.ts;
  return covered && quote.size !== undefined && quote.size > 0 ? { ...quote, size: 0 } : quote;
}

/**
 * A feed quote older than the newest tick still brings the day's figures: a REST snapshot
 * answered after the stream's first trade knows the previous close, the open and the day's
 * volume. The newest price and time with those figures (and a gap mark), or undefined when they change nothing.
 */
export function withDayFigures(latest: Tick, quote: Quote): Quote | undefined {
  if (quote.ts === undefined || tradingDay(quote.ts) !== tradingDay(latest.ts)) return undefined;
  const dayVolume = quote.dayVolume ?? quote.volume;
  const changes =
    (quote.prevClose !== undefined && quote.prevClose !== latest.prevClose) ||
    (quote.open !== undefined && quote.open !== latest.open) ||
    (quote.high !== undefined && quote.high > (latest.high ?? Number.NEGATIVE_INFINITY)) ||
    (quote.low !== undefined && quote.low < (latest.low ?? Number.POSITIVE_INFINITY)) ||
    (dayVolume !== undefined && dayVolume > (latest.dayVolume ?? -1));
  // A gap mark is news too: the viewer learns trades were missed, at the newest price.
  if (!changes && !quote.gap) return undefined;
  const { symbol, price, ts, source, bid, ask, currency, delayed, delayMs } = latest;
  return {
    symbol,
    price,
    ts,
    source,
    ...(bid !== undefined ? { bid } : {}),
    ...(ask !== undefined ? { ask } : {}),
    ...(currency !== undefined ? { currency } : {}),
    ...(delayed ? { delayed, delayMs } : {}),
    ...(quote.prevClose !== undefined ? { prevClose: quote.prevClose } : {}),
    ...(quote.open !== undefined ? { open: quote.open } : {}),
    ...(quote.high !== undefined ? { high: quote.high } : {}),
    ...(quote.low !== undefined ? { low: quote.low } : {}),
    ...(dayVolume !== undefined ? { dayVolume } : {}),
    ...(quote.volume24h !== undefined ? { volume24h: quote.volume24h } : {}),
    ...(quote.gap ? { gap: true as const } : {}),
  };
}

/**
 * Numbers a quote into the next tick of its symbol. Session fields (open, high, low,
 * prevClose) carry over within a trading day and roll over at a new one, so change
 * and changePercent are always against the previous close.
 */
export function nextTick(
  previous: Tick | undefined,
  quote: Quote,
  now: number,
  /** How old the previous observation may be for a day total's growth to count as traded in this tick. */
  volumeAttributionMs = VOLUME_ATTRIBUTION_MS,
): Tick {
  const ts = quote.ts ?? now;
  const sameDay = previous !== undefined && tradingDay(previous.ts) === tradingDay(ts);
  const prevClose = quote.prevClose ?? (sameDay ? previous.prevClose : previous?.price) ?? quote.price;
  const open = quote.open ?? (sameDay ? previous.open : undefined) ?? quote.price;
  const high = Math.max(quote.high ?? quote.price, sameDay ? (previous.high ?? quote.price) : quote.price);
  const low = Math.min(quote.low ?? quote.price, sameDay ? (previous.low ?? quote.price) : quote.price);
  const change = round(quote.price - prevClose, 6);
  const { size, dayVolume } = volumeFigures(
    quote.symbol,
    previous,
    { size: quote.size, dayVolume: quote.dayVolume ?? quote.volume },
    ts,
    volumeAttributionMs,
  );
  const { size: _size, dayVolume: _day, volume: _volume, ...rest } = quote;
  const tick: Tick = {
    ...rest,
    ...(size !== undefined ? { size } : {}),
    ...(dayVolume !== undefined ? { dayVolume, volume: dayVolume } : {}),
    ts,
    seq: (previous?.seq ?? 0) + 1,
    change,
    changePercent: round((change / prevClose) * 100, 4),
    prevClose,
    open,
    high,
    low,
    marketState: quote.marketState ?? marketState(quote.symbol, ts),
  };
  return tick;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
