import { assetClass, type MarketState, marketState } from "../../market/hours";
import { round } from "../../market/tick";
import { REGULAR } from "../../market/trade-conditions";
import { normal, uniform } from "../prng";
import {
  decimalsFor,
  MS_PER_TRADING_YEAR,
  SESSION_FACTOR,
  simulatedStartPrice,
  TIME_SCALE,
  VOLATILITY,
} from "../simulator";
import { isRecord, parseJson, type StreamCodec, type StreamEvent } from "./codec";

/** Trades arrive in slots of this length; each slot's intensity is drawn on its own (bursts). */
const SLOT_MS = 250;
/** How much quieter each session is than regular hours (crypto: always regular). */
const ACTIVITY: Readonly<Record<MarketState, number>> = { REGULAR: 1, PRE: 0.25, POST: 0.25, CLOSED: 0.05 };

/** A symbol's trades per second in regular hours: a few hot ones at tens a second, a long tail at one every few seconds. Pure. */
export function simTradeRate(seed: string, symbol: string): number {
  const u = uniform(`${seed}:${symbol}:rate`);
  return uniform(`${seed}:${symbol}:hot`) < 0.08 ? 10 + u * 30 : 0.2 + u * 1.8;
}

export interface SimTrade {
  ts: number;
  /** The trade's standard-normal shock (the price follows from the previous one). */
  z: number;
  size: number;
}

/**
 * The simulated trades of `symbol` in (from, to]: irregular, bursty moments (each slot's
 * intensity is lognormal around the symbol's rate, calmer outside market hours), a pure
 * function of (seed, symbol, time): any window gives the same trades however it is cut.
 */
export function simTrades(seed: string, symbol: string, from: number, to: number): SimTrade[] {
  const out: SimTrade[] = [];
  const rate = simTradeRate(seed, symbol);
  for (let slot = Math.floor(from / SLOT_MS); slot * SLOT_MS <= to; slot++) {
    const start = slot * SLOT_MS;
    const key = `${seed}:${symbol}:${slot}`;
    // Mean-one lognormal bursts: most slots quiet, a few busy.
    const burst = Math.exp(1.2 * normal(`${key}:burst`) - 0.72);
    const expected = rate * ACTIVITY[marketState(symbol, start)] * burst * (SLOT_MS / 1000);
    const count = Math.floor(expected + uniform(`${key}:n`));
    const times = Array.from({ length: count }, (_, i) => start + Math.floor(uniform(`${key}:${i}:t`) * SLOT_MS)).sort(
      (a, b) => a - b,
    );
    times.forEach((ts, i) => {
      if (ts > from && ts <= to)
        out.push({ ts, z: normal(`${key}:${i}:z`), size: 1 + Math.floor(uniform(`${key}:${i}:s`) * 500) });
    });
  }
  return out;
}

/** The next price after `price` for a trade: GBM with the simulator's volatility, spread over the symbol's trades. */
export function simTradePrice(seed: string, symbol: string, price: number, trade: SimTrade): number {
  const cls = assetClass(symbol);
  const state = marketState(symbol, trade.ts);
  const perTradeMs = 1000 / Math.max(0.05, simTradeRate(seed, symbol) * ACTIVITY[state]);
  const dtYears = (perTradeMs * TIME_SCALE) / MS_PER_TRADING_YEAR;
  const sigma = VOLATILITY[cls] * SESSION_FACTOR[state];
  const next = price * Math.exp(-0.5 * sigma * sigma * dtYears + sigma * Math.sqrt(dtYears) * trade.z);
  const decimals = decimalsFor(cls, price);
  return Math.max(round(next, decimals), 10 ** -decimals);
}

/**
 * The simulator's "stream protocol": what `SimExchange` sends in-process, in the shape of a
 * provider's (subscribe messages out, trade batches and heartbeats in), so the simulated
 * demo exercises the same codec → coalescer → ingest path as a real provider's stream. It
 * confirms each subscription and sends a heartbeat every period, so it is never probed.
 */
export class SimStream implements StreamCodec {
  readonly provider = "sim";
  readonly confirms = true;
  readonly probes = false;
  readonly delayed = false;
  readonly readyOnOpen = true;
  readonly limits = { symbolsPerConnection: 1_000, messagesPerSecond: 1_000, connections: 1 };

  url(): string {
    return "sim:";
  }
  providerSymbol(symbol: string): string {
    return symbol;
  }
  hello(): string[] {
    return [];
  }
  subscribe(symbols: readonly string[]): string[] {
    return symbols.length > 0 ? [JSON.stringify({ subscribe: symbols })] : [];
  }
  unsubscribe(symbols: readonly string[]): string[] {
    return symbols.length > 0 ? [JSON.stringify({ unsubscribe: symbols })] : [];
  }
  probe(): undefined {
    return undefined;
  }
  decode(text: string): StreamEvent[] {
    const m = parseJson(text);
    if (!isRecord(m)) return [{ kind: "malformed", reason: "sim message" }];
    if (Array.isArray(m.subscribed))
      return [{ kind: "subscribed", symbols: m.subscribed.filter((s): s is string => typeof s === "string") }];
    if (!Array.isArray(m.trades)) return [{ kind: "heartbeat" }];
    return m.trades.map((t: unknown): StreamEvent => {
      const [symbol, price, size, ts] = Array.isArray(t) ? t : [];
      return typeof symbol === "string" && typeof price === "number" && price > 0
        ? { kind: "trade", symbol, price, size: Number(size), ts: Number(ts), rule: REGULAR }
        : { kind: "malformed", reason: "sim trade" };
    });
  }
}

/**
 * The in-process exchange behind `SimStream`, shaped like a WebSocket (send, close, message
 * events) so the upstream object treats it as any provider's connection. Every `periodMs` it
 * sends the trades of its subscribed symbols since the last time, each price following the
 * one before (starting from the symbol's latest tick, asked through `latestPrice`).
 */
export class SimExchange {
  private readonly symbols = new Map<string, number | undefined>();
  private readonly listeners: Array<(event: { data: string }) => void> = [];
  private last = Date.now();
  private readonly timer: ReturnType<typeof setInterval>;
  readonly readyState = 1;

  constructor(
    private readonly seed: string,
    private readonly latestPrice: (symbol: string) => Promise<number | undefined>,
    periodMs: number,
  ) {
    this.timer = setInterval(() => this.emit(), periodMs);
  }

  addEventListener(type: string, listener: (event: { data: string }) => void): void {
    if (type === "message") this.listeners.push(listener);
  }

  send(text: string): void {
    const m = parseJson(text);
    if (!isRecord(m)) return;
    const subscribed = (Array.isArray(m.subscribe) ? m.subscribe : []).filter((s) => typeof s === "string");
    // Confirmed as a provider would, after the current message has been handled.
    if (subscribed.length > 0)
      queueMicrotask(() => {
        const text = JSON.stringify({ subscribed });
        for (const l of this.listeners) l({ data: text });
      });
    for (const s of Array.isArray(m.subscribe) ? m.subscribe : []) {
      if (typeof s !== "string" || this.symbols.has(s)) continue;
      this.symbols.set(s, undefined);
      void this.latestPrice(s).then(
        (p) => this.symbols.has(s) && this.symbols.set(s, p ?? simulatedStartPrice(s, this.seed)),
      );
    }
    for (const s of Array.isArray(m.unsubscribe) ? m.unsubscribe : []) this.symbols.delete(String(s));
  }

  close(): void {
    clearInterval(this.timer);
    this.symbols.clear();
  }

  accept(): void {}

  private emit(): void {
    const now = Date.now();
    const trades: Array<[string, number, number, number]> = [];
    for (const [symbol, price] of this.symbols) {
      if (price === undefined) continue;
      let p = price;
      for (const t of simTrades(this.seed, symbol, this.last, now)) {
        p = simTradePrice(this.seed, symbol, p, t);
        trades.push([symbol, p, t.size, t.ts]);
      }
      this.symbols.set(symbol, p);
    }
    this.last = now;
    // A message even without trades: the link's watchdog hears a live exchange.
    const text = JSON.stringify(trades.length > 0 ? { trades } : { heartbeat: now });
    for (const l of this.listeners) l({ data: text });
  }
}
