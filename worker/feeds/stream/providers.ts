import { assetClass } from "../../market/hours";
import { epochMs, num, price } from "../normalize";
import {
  chunks,
  isRecord,
  malformed,
  parseJson,
  type StreamCodec,
  type StreamCodecOptions,
  type StreamEvent,
  type StreamLimits,
} from "./codec";
import { SimStream } from "./sim-stream";

/**
 * One codec per provider, each following the provider's documented stream protocol. Each
 * remembers which of our symbols a provider name stands for (BTCUSDT → BTC-USD), so events
 * come out in our symbols. Pure.
 */
abstract class BaseCodec implements StreamCodec {
  abstract readonly provider: string;
  abstract readonly limits: StreamLimits;
  readonly delayed: boolean = false;
  readonly readyOnOpen: boolean = true;
  private readonly ours = new Map<string, string>();

  constructor(protected readonly options: StreamCodecOptions) {}

  abstract url(): string;
  protected abstract name(symbol: string): string | undefined;
  abstract subscribe(symbols: readonly string[]): string[];
  abstract unsubscribe(symbols: readonly string[]): string[];
  protected abstract events(message: unknown): StreamEvent[];

  providerSymbol(symbol: string): string | undefined {
    const name = this.name(symbol);
    if (name !== undefined) this.ours.set(name, symbol);
    return name;
  }

  hello(): string[] {
    return [];
  }

  decode(text: string): StreamEvent[] {
    const message = parseJson(text);
    if (message === undefined) return [malformed(text)];
    try {
      return this.events(message);
    } catch {
      return [malformed(text)];
    }
  }

  /** Our symbol for a provider name we subscribed (undefined: not one of ours). */
  protected ourSymbol(name: unknown): string | undefined {
    return typeof name === "string" ? this.ours.get(name) : undefined;
  }

  protected names(symbols: readonly string[]): string[] {
    return symbols.flatMap((s) => this.providerSymbol(s) ?? []);
  }

  protected trade(symbol: unknown, p: unknown, size: unknown, ts: number | undefined): StreamEvent {
    const ours = this.ourSymbol(symbol);
    const value = price(p);
    if (ours === undefined || value === undefined)
      return { kind: "malformed", reason: `trade without a known symbol or a valid price` };
    const volume = num(size);
    return {
      kind: "trade",
      symbol: ours,
      price: value,
      ...(volume !== undefined && volume >= 0 ? { size: volume } : {}),
      ...(ts !== undefined ? { ts } : {}),
    };
  }

  protected quote(symbol: unknown, bid: unknown, ask: unknown, ts: number | undefined): StreamEvent {
    const ours = this.ourSymbol(symbol);
    if (ours === undefined) return { kind: "malformed", reason: "quote without a known symbol" };
    const b = price(bid);
    const a = price(ask);
    if (b === undefined && a === undefined) return { kind: "malformed", reason: "quote without a bid or an ask" };
    return {
      kind: "quote",
      symbol: ours,
      ...(b !== undefined ? { bid: b } : {}),
      ...(a !== undefined ? { ask: a } : {}),
      ...(ts !== undefined ? { ts } : {}),
    };
  }
}

const equityOnly = (symbol: string) => (assetClass(symbol) === "equity" ? symbol : undefined);

/**
 * Finnhub `wss://ws.finnhub.io?token=KEY`: `{"type":"subscribe","symbol":"AAPL"}` per
 * symbol; trades as `{"type":"trade","data":[{s,p,v,t}]}` (t in ms); `{"type":"ping"}`
 * keeps the connection; errors as `{"type":"error","msg":…}`. Free plan: one connection
 * per key, 50 symbols.
 */
export class FinnhubStream extends BaseCodec {
  readonly provider = "finnhub";
  readonly limits = { symbolsPerConnection: 50, messagesPerSecond: 30, connections: 1 };

  url(): string {
    const url = new URL(this.options.url ?? "wss://ws.finnhub.io");
    url.searchParams.set("token", this.options.key ?? "");
    return url.toString();
  }
  protected name(symbol: string) {
    return equityOnly(symbol);
  }
  subscribe(symbols: readonly string[]): string[] {
    return this.names(symbols).map((symbol) => JSON.stringify({ type: "subscribe", symbol }));
  }
  unsubscribe(symbols: readonly string[]): string[] {
    return this.names(symbols).map((symbol) => JSON.stringify({ type: "unsubscribe", symbol }));
  }
  protected events(message: unknown): StreamEvent[] {
    if (!isRecord(message)) return [malformed(JSON.stringify(message))];
    switch (message.type) {
      case "trade":
        if (!Array.isArray(message.data)) return [malformed("trade without data")];
        return message.data.map((t: unknown) =>
          isRecord(t) ? this.trade(t.s, t.p, t.v, epochMs(t.t)) : malformed("trade entry"),
        );
      case "ping":
        return [{ kind: "heartbeat" }];
      case "error": {
        const reason = String(message.msg ?? "error");
        // Finnhub words its refusals; a key problem or a second connection ends the stream.
        if (/token|api key|unauthori[sz]ed|invalid key/i.test(reason))
          return [{ kind: "fault", fault: "auth", reason, fatal: true }];
        if (/limit|too many/i.test(reason)) return [{ kind: "fault", fault: "connection-limit", reason, fatal: true }];
        if (/symbol/i.test(reason)) return [{ kind: "fault", fault: "refused-symbol", reason, fatal: false }];
        return [{ kind: "fault", fault: "protocol", reason, fatal: false }];
      }
      default:
        return [{ kind: "heartbeat" }];
    }
  }
}

/**
 * Alpaca market data `wss://stream.data.alpaca.markets/v2/{feed}` (iex free, sip, delayed_sip
 * 15 minutes late, test): `[{"T":"success","msg":"connected"}]`, then
 * `{"action":"auth","key","secret"}` → `authenticated`; subscribe with
 * `{"action":"subscribe","trades":[…],"quotes":[…]}`; every message is an array of
 * `{"T":"t"|"q"|"subscription"|"error"|"success",…}`; errors carry codes (402 auth failed,
 * 406 connection limit exceeded, 405 symbol limit exceeded, 409 insufficient subscription).
 */
export class AlpacaStream extends BaseCodec {
  readonly provider = "alpaca";
  override readonly readyOnOpen = false;
  readonly limits = { symbolsPerConnection: 30, messagesPerSecond: 10, connections: 1 };
  override readonly delayed: boolean;
  private readonly feed: string;

  constructor(options: StreamCodecOptions) {
    super(options);
    this.feed = options.alpacaDataFeed ?? "iex";
    this.delayed = this.feed === "delayed_sip";
    // Paid plans lift the symbol limit; the free (iex) plan allows 30.
    if (this.feed !== "iex") this.limits = { ...this.limits, symbolsPerConnection: 10_000 };
  }

  url(): string {
    if (this.options.url) return this.options.url.replace(/\{feed\}/, this.feed);
    return `wss://stream.data.alpaca.markets/v2/${this.feed}`;
  }
  protected name(symbol: string) {
    return equityOnly(symbol);
  }
  override hello(): string[] {
    return [JSON.stringify({ action: "auth", key: this.options.key ?? "", secret: this.options.secret ?? "" })];
  }
  subscribe(symbols: readonly string[]): string[] {
    return chunks(this.names(symbols), 100).map((s) => JSON.stringify({ action: "subscribe", trades: s, quotes: s }));
  }
  unsubscribe(symbols: readonly string[]): string[] {
    return chunks(this.names(symbols), 100).map((s) => JSON.stringify({ action: "unsubscribe", trades: s, quotes: s }));
  }
  protected events(message: unknown): StreamEvent[] {
    const items = Array.isArray(message) ? message : [message];
    return items.map((m: unknown): StreamEvent => {
      if (!isRecord(m)) return malformed("entry");
      switch (m.T) {
        case "t":
          return this.trade(m.S, m.p, m.s, epochMs(m.t));
        case "q":
          return this.quote(m.S, m.bp, m.ap, epochMs(m.t));
        case "success":
          return m.msg === "authenticated" ? { kind: "ready" } : { kind: "heartbeat" };
        case "subscription":
          return {
            kind: "subscribed",
            symbols: (Array.isArray(m.trades) ? m.trades : []).flatMap((s: unknown) => this.ourSymbol(s) ?? []),
          };
        case "error":
          return alpacaError(num(m.code), String(m.msg ?? "error"));
        default:
          return { kind: "heartbeat" };
      }
    });
  }
}

function alpacaError(code: number | undefined, msg: string): StreamEvent {
  const reason = `${code ?? "?"} ${msg}`;
  switch (code) {
    case 401: // not authenticated
    case 402: // auth failed
    case 404: // auth timeout
    case 409: // insufficient subscription (the plan does not cover this feed)
      return { kind: "fault", fault: "auth", reason, fatal: true };
    case 406:
      return { kind: "fault", fault: "connection-limit", reason, fatal: true };
    case 405:
      return { kind: "fault", fault: "symbol-limit", reason, fatal: false };
    default:
      return { kind: "fault", fault: "protocol", reason, fatal: false };
  }
}

/**
 * Coinbase Advanced Trade `wss://advanced-trade-ws.coinbase.com` public channels:
 * `{"type":"subscribe","channel":"market_trades"|"ticker"|"heartbeats","product_ids":[…]}`;
 * every message carries the connection's `sequence_num`: a jump means messages were lost
 * (a gap), a step back is an old message (dropped).
 */
export class CoinbaseStream extends BaseCodec {
  readonly provider = "coinbase";
  readonly limits = { symbolsPerConnection: 100, messagesPerSecond: 8, connections: 8 };
  private lastSequence: number | undefined;

  url(): string {
    return this.options.url ?? "wss://advanced-trade-ws.coinbase.com";
  }
  protected name(symbol: string) {
    return assetClass(symbol) === "crypto" ? symbol : undefined;
  }
  subscribe(symbols: readonly string[]): string[] {
    const product_ids = this.names(symbols);
    if (product_ids.length === 0) return [];
    // Heartbeats keep a quiet product's connection provably alive.
    return ["market_trades", "ticker", "heartbeats"].map((channel) =>
      JSON.stringify({ type: "subscribe", channel, product_ids }),
    );
  }
  unsubscribe(symbols: readonly string[]): string[] {
    const product_ids = this.names(symbols);
    if (product_ids.length === 0) return [];
    return ["market_trades", "ticker"].map((channel) => JSON.stringify({ type: "unsubscribe", channel, product_ids }));
  }
  protected events(message: unknown): StreamEvent[] {
    if (!isRecord(message)) return [malformed("not an object")];
    if (message.type === "error") {
      const reason = String(message.message ?? "error");
      if (/auth|jwt|unauthori[sz]ed/i.test(reason)) return [{ kind: "fault", fault: "auth", reason, fatal: true }];
      if (/product|symbol/i.test(reason)) return [{ kind: "fault", fault: "refused-symbol", reason, fatal: false }];
      if (/limit|too many/i.test(reason)) return [{ kind: "fault", fault: "connection-limit", reason, fatal: true }];
      return [{ kind: "fault", fault: "protocol", reason, fatal: false }];
    }
    const sequence = num(message.sequence_num);
    const out: StreamEvent[] = [];
    if (sequence !== undefined) {
      const last = this.lastSequence;
      if (last !== undefined && sequence <= last) return [{ kind: "heartbeat" }]; // old or repeated: never a price
      if (last !== undefined && sequence > last + 1)
        out.push({ kind: "gap", reason: `sequence ${last} → ${sequence}` });
      this.lastSequence = sequence;
    }
    const events = Array.isArray(message.events) ? message.events : [];
    switch (message.channel) {
      case "market_trades":
        for (const e of events) {
          for (const t of isRecord(e) && Array.isArray(e.trades) ? e.trades : []) {
            // A snapshot replays recent trades: they bring the price current, oldest first.
            if (isRecord(t)) out.push(this.trade(t.product_id, t.price, t.size, epochMs(t.time)));
          }
        }
        // Snapshots list newest first; trades must be applied oldest first.
        return out.sort((a, b) => (a.kind === "trade" && b.kind === "trade" ? (a.ts ?? 0) - (b.ts ?? 0) : 0));
      case "ticker":
        for (const e of events) {
          for (const t of isRecord(e) && Array.isArray(e.tickers) ? e.tickers : []) {
            if (isRecord(t)) out.push(this.quote(t.product_id, t.best_bid, t.best_ask, epochMs(message.timestamp)));
          }
        }
        return out;
      case "subscriptions": {
        const subs = events.flatMap((e: unknown) =>
          isRecord(e) && isRecord(e.subscriptions) && Array.isArray(e.subscriptions.market_trades)
            ? e.subscriptions.market_trades
            : [],
        );
        return [...out, { kind: "subscribed", symbols: subs.flatMap((s: unknown) => this.ourSymbol(s) ?? []) }];
      }
      default:
        return [...out, { kind: "heartbeat" }];
    }
  }
}

/**
 * Binance combined streams `wss://stream.binance.com:9443/stream`: live
 * `{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@bookTicker"],"id":n}` (acknowledged
 * `{"result":null,"id":n}`), data as `{"stream":…,"data":{"e":"trade","s","p","q","T"}}`. Limits:
 * 5 incoming messages a second, 1024 streams per connection, connections end after 24 h.
 * BTC-USD ↔ BTCUSDT as the REST adapter maps it.
 */
export class BinanceStream extends BaseCodec {
  readonly provider = "binance";
  readonly limits = {
    symbolsPerConnection: 512,
    messagesPerSecond: 5,
    maxConnectionMs: 24 * 3_600_000,
    connections: 300,
  };
  private nextId = 1;
  /** Which of our symbols each SUBSCRIBE asked for: an error names the request, not the symbol. */
  private readonly requested = new Map<number, string[]>();

  url(): string {
    return this.options.url ?? "wss://stream.binance.com:9443/stream";
  }
  protected name(symbol: string) {
    if (assetClass(symbol) !== "crypto") return undefined;
    const [base, quote] = symbol.split("-");
    return `${base}${quote === "USD" ? "USDT" : quote}`;
  }
  private request(method: string, symbols: readonly string[]): string[] {
    // Two streams per symbol; 100 symbols keep each message small.
    return chunks(symbols, 100).flatMap((batch) => {
      const names = this.names(batch);
      if (names.length === 0) return [];
      const id = this.nextId++;
      if (method === "SUBSCRIBE")
        this.requested.set(
          id,
          batch.filter((s) => this.providerSymbol(s) !== undefined),
        );
      if (this.requested.size > 100) this.requested.delete(this.requested.keys().next().value!);
      return [
        JSON.stringify({
          method,
          params: names.flatMap((n) => [`${n.toLowerCase()}@trade`, `${n.toLowerCase()}@bookTicker`]),
          id,
        }),
      ];
    });
  }
  subscribe(symbols: readonly string[]): string[] {
    return this.request("SUBSCRIBE", symbols);
  }
  unsubscribe(symbols: readonly string[]): string[] {
    return this.request("UNSUBSCRIBE", symbols);
  }
  protected events(message: unknown): StreamEvent[] {
    if (!isRecord(message)) return [malformed("not an object")];
    if (isRecord(message.error)) {
      const reason = `${String(message.error.code ?? "?")} ${String(message.error.msg ?? "error")}`;
      const symbols = typeof message.id === "number" ? this.requested.get(message.id) : undefined;
      // A refused SUBSCRIBE: its symbols are polled instead.
      return [
        {
          kind: "fault",
          fault: symbols ? "refused-symbol" : "protocol",
          reason,
          fatal: false,
          ...(symbols ? { symbols } : {}),
        },
      ];
    }
    if ("result" in message && "id" in message) {
      const symbols = typeof message.id === "number" ? this.requested.get(message.id) : undefined;
      if (symbols) this.requested.delete(message.id as number);
      return [symbols ? { kind: "subscribed", symbols } : { kind: "heartbeat" }];
    }
    const data = isRecord(message.data) ? message.data : message;
    if (data.e === "trade") return [this.trade(data.s, data.p, data.q, epochMs(data.T))];
    if (typeof message.stream === "string" && message.stream.endsWith("@bookTicker"))
      return [this.quote(data.s, data.b, data.a, undefined)];
    return [malformed("unknown stream message")];
  }
}

/**
 * Polygon (Massive) `wss://socket.polygon.io/stocks` (real time) or `wss://delayed.polygon.io/stocks`
 * (15 minutes late): `{"action":"auth","params":KEY}` → `auth_success`/`auth_failed`;
 * `{"action":"subscribe","params":"T.AAPL,Q.AAPL"}`; events `{"ev":"T","sym","p","s","t"}`,
 * `{"ev":"Q","sym","bp","ap","t"}`; `max_connections` when a second connection opens.
 */
export class PolygonStream extends BaseCodec {
  readonly provider = "polygon";
  override readonly readyOnOpen = false;
  readonly limits = { symbolsPerConnection: 1_000, messagesPerSecond: 10, connections: 1 };
  override readonly delayed: boolean;

  constructor(options: StreamCodecOptions) {
    super(options);
    this.delayed = /delayed/.test(this.url());
  }

  url(): string {
    return this.options.url ?? "wss://socket.polygon.io/stocks";
  }
  protected name(symbol: string) {
    return equityOnly(symbol);
  }
  override hello(): string[] {
    return [JSON.stringify({ action: "auth", params: this.options.key ?? "" })];
  }
  subscribe(symbols: readonly string[]): string[] {
    return chunks(this.names(symbols), 200).map((s) =>
      JSON.stringify({ action: "subscribe", params: s.flatMap((n) => [`T.${n}`, `Q.${n}`]).join(",") }),
    );
  }
  unsubscribe(symbols: readonly string[]): string[] {
    return chunks(this.names(symbols), 200).map((s) =>
      JSON.stringify({ action: "unsubscribe", params: s.flatMap((n) => [`T.${n}`, `Q.${n}`]).join(",") }),
    );
  }
  protected events(message: unknown): StreamEvent[] {
    const items = Array.isArray(message) ? message : [message];
    return items.map((m: unknown): StreamEvent => {
      if (!isRecord(m)) return malformed("entry");
      switch (m.ev) {
        case "T":
          return this.trade(m.sym, m.p, m.s, epochMs(m.t));
        case "Q":
          return this.quote(m.sym, m.bp, m.ap, epochMs(m.t));
        case "status": {
          const reason = String(m.message ?? m.status);
          if (m.status === "auth_success") return { kind: "ready" };
          if (m.status === "auth_failed") return { kind: "fault", fault: "auth", reason, fatal: true };
          if (m.status === "max_connections") return { kind: "fault", fault: "connection-limit", reason, fatal: true };
          if (m.status === "error") return { kind: "fault", fault: "protocol", reason, fatal: false };
          return { kind: "heartbeat" };
        }
        default:
          return { kind: "heartbeat" };
      }
    });
  }
}

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
