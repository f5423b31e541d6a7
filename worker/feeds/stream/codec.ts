import type { ConditionRule } from "../../market/trade-conditions";
import type { ProviderStreamFaultKind } from "../fault";

export type { StreamFault, StreamFaultKind } from "../fault";

/**
 * What every provider's stream protocol turns into: typed events in our symbols, and the
 * messages we send (authentication, subscribe, unsubscribe, a liveness probe). One codec per
 * connection (some keep per-connection state: Coinbase's sequence numbers, which of our
 * symbols each provider name stands for). Pure: no sockets here.
 */

/**
 * What a refusal applies to: the whole connection (bad key, too many connections: it is of
 * no use and its symbols are polled); named symbols, with the others of the refused message
 * to ask for again (a message is refused as a whole); the oldest symbol still waiting for its
 * confirmation (a provider that answers in order and names none: Alpaca's 405, one symbol per
 * message); every symbol still waiting; or nothing (logged only).
 */
export type FaultScope =
  | { of: "connection" }
  | { of: "symbols"; symbols: string[]; retry?: string[] }
  | { of: "oldest-pending" }
  | { of: "pending" }
  | { of: "none" };

export type StreamEvent =
  /** One trade: price, size, the exchange's time (epoch ms), and what its conditions let it update. */
  | { kind: "trade"; symbol: string; price: number; size?: number; ts?: number; rule: ConditionRule }
  /** Best bid/ask changed. */
  | { kind: "quote"; symbol: string; bid?: number; ask?: number; ts?: number }
  /** Authenticated (or nothing to authenticate): subscriptions may be sent. */
  | { kind: "ready" }
  /** The provider confirmed these symbols (only codecs whose confirmations can be trusted say so). */
  | { kind: "subscribed"; symbols: string[] }
  /** Something the provider refused. */
  | { kind: "fault"; fault: ProviderStreamFaultKind; reason: string; scope: FaultScope }
  /** Messages were lost on this connection (a sequence jump): every symbol needs catching up. */
  | { kind: "gap"; reason: string }
  /** Answer the provider's application-level ping with this message. */
  | { kind: "reply"; text: string }
  /** Proof of life without data (heartbeats, acknowledgements, pings, probe answers). */
  | { kind: "heartbeat" }
  /** A message we could not read: dropped, counted, never a price. */
  | { kind: "malformed"; reason: string };

export interface StreamLimits {
  /** Symbols one connection may carry (the provider's per-connection or plan limit). */
  symbolsPerConnection: number;
  /** Messages we may send per second (subscriptions are batched to stay under it). */
  messagesPerSecond: number;
  /** The provider ends connections after this long (Binance: 24 h); we reconnect a little before. */
  maxConnectionMs?: number;
  /** Connections one key (or address) may hold at once. */
  connections: number;
}

export interface StreamCodec {
  readonly provider: string;
  /**
   * Whether the protocol confirms each subscribed symbol (Alpaca, Polygon, Coinbase): a
   * symbol then counts as streamed once confirmed. Otherwise (Finnhub says nothing, Binance
   * acknowledges pairs it does not have) only once its first trade arrived.
   */
  readonly confirms: boolean;
  /** The provider itself delays this feed (Alpaca delayed_sip, Polygon's delayed host). */
  readonly delayed: boolean;
  readonly limits: StreamLimits;
  /** The WebSocket URL to open (credentials in the query where the provider wants them). */
  url(): string;
  /** The provider's name for `symbol`, or undefined when its stream does not carry it. */
  providerSymbol(symbol: string): string | undefined;
  /** Sent right after the socket opens (authentication); a `ready` event follows. */
  hello(): string[];
  /** True when the connection is ready as soon as it opens (no authentication step). */
  readonly readyOnOpen: boolean;
  subscribe(symbols: readonly string[]): string[];
  unsubscribe(symbols: readonly string[]): string[];
  /** One received message (text) into events; never throws. */
  decode(text: string): StreamEvent[];
  /** Whether `probe` can ask the provider something (Alpaca, Polygon, Binance); the others talk by themselves. */
  readonly probes: boolean;
  /**
   * A message a healthy connection answers, sent when it has been quiet a while (protocol-level
   * pings are answered by the runtime and never reach us); undefined when the provider keeps
   * talking by itself (heartbeats, pings of its own) or nothing is subscribed to ask about.
   */
  probe(): string | undefined;
}

export interface StreamCodecOptions {
  /** FEED_STREAM_URL: replaces the provider's stream URL (a proxy, or a test server). */
  url?: string;
  key?: string;
  secret?: string;
  /** Alpaca's data feed (iex, sip, delayed_sip, test). */
  alpacaDataFeed?: string;
}

/** JSON.parse that answers undefined instead of throwing (garbage and truncated messages). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const malformed = (text: string): StreamEvent => ({
  kind: "malformed",
  reason: `unreadable message: ${text.slice(0, 60)}`,
});

/** Splits symbols into chunks of at most `size` (one subscribe message each). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
