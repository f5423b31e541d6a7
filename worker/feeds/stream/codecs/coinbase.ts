import { assetClass } from "../../../market/hours";
import { REGULAR, REPLAYED } from "../../../market/trade-conditions";
import { epochMs, num } from "../../normalize";
import { isRecord, malformed, type StreamEvent } from "../codec";
import { BaseCodec } from "./base";

/** Quoted in USDC but traded on their own books: every other -USDC product answers as -USD. */
const OWN_USDC_BOOKS = new Set(["USDT-USDC", "EURC-USDC"]);

/**
 * Coinbase Advanced Trade `wss://advanced-trade-ws.coinbase.com` public channels:
 * `{"type":"subscribe","channel":"market_trades"|"ticker"|"heartbeats","product_ids":[…]}`,
 * confirmed by a `subscriptions` message. `market_trades` first replays recent trades (an
 * event of type `snapshot`: they may bring the price current but were traded before we
 * subscribed, so they count toward no volume), then `update`s. "-USDC" products answer as
 * "-USD" (one book since Coinbase unified them). Every message carries the connection's
 * `sequence_num`: a jump means messages were lost (a gap), a step back is an old message
 * (dropped). `heartbeats` every second keep it alive (and prove it so).
 */
export class CoinbaseStream extends BaseCodec {
  readonly provider = "coinbase";
  readonly probes = false;
  readonly confirms = true;
  readonly limits = { symbolsPerConnection: 100, messagesPerSecond: 8, connections: 8 };
  private lastSequence: number | undefined;
  /** The product lists of recent subscribes: a refusal names one product and refuses its whole message. */
  private readonly batches: string[][] = [];
  /** Heartbeats are one subscription per connection. */
  private heartbeats = false;

  url(): string {
    return this.options.url ?? "wss://advanced-trade-ws.coinbase.com";
  }
  protected name(symbol: string) {
    if (assetClass(symbol) !== "crypto") return undefined;
    return symbol.endsWith("-USDC") && !OWN_USDC_BOOKS.has(symbol) ? symbol.replace(/-USDC$/, "-USD") : symbol;
  }
  protected subscribeNames(product_ids: readonly string[]): string[] {
    this.batches.push([...product_ids]);
    if (this.batches.length > 20) this.batches.shift();
    // Heartbeats keep a quiet product's connection provably alive: subscribed once, with the first products.
    const channels = this.heartbeats ? ["market_trades", "ticker"] : ["market_trades", "ticker", "heartbeats"];
    this.heartbeats = true;
    return channels.map((channel) => JSON.stringify({ type: "subscribe", channel, product_ids }));
  }
  protected unsubscribeNames(product_ids: readonly string[]): string[] {
    return ["market_trades", "ticker"].map((channel) => JSON.stringify({ type: "unsubscribe", channel, product_ids }));
  }
  protected events(message: unknown): StreamEvent[] {
    if (!isRecord(message)) return [malformed("not an object")];
    if (message.type === "error") return [this.error(message)];
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
      case "market_trades": {
        const trades: StreamEvent[] = [];
        for (const e of events) {
          if (!isRecord(e)) continue;
          const rule = e.type === "snapshot" ? REPLAYED : REGULAR;
          for (const t of Array.isArray(e.trades) ? e.trades : []) {
            if (isRecord(t)) trades.push(...this.trade(t.product_id, t.price, t.size, epochMs(t.time), rule));
          }
        }
        // Snapshots list newest first; trades must be applied oldest first.
        trades.sort((a, b) => (a.kind === "trade" && b.kind === "trade" ? (a.ts ?? 0) - (b.ts ?? 0) : 0));
        return [...out, ...trades];
      }
      case "ticker":
        for (const e of events) {
          for (const t of isRecord(e) && Array.isArray(e.tickers) ? e.tickers : []) {
            if (isRecord(t)) out.push(...this.quote(t.product_id, t.best_bid, t.best_ask, epochMs(message.timestamp)));
          }
        }
        return out;
      case "subscriptions": {
        const names = events.flatMap((e: unknown) =>
          isRecord(e) && isRecord(e.subscriptions) && Array.isArray(e.subscriptions.market_trades)
            ? e.subscriptions.market_trades
            : [],
        );
        return [...out, { kind: "subscribed", symbols: names.flatMap((n: unknown) => this.oursOf(n)) }];
      }
      default:
        return [...out, { kind: "heartbeat" }];
    }
  }

  /**
   * `{"type":"error","message":…,"reason":…}`. A refused subscribe names its product in words:
   * that product's symbols are refused and the rest of its message asked for again; one that
   * names none refuses every symbol not confirmed yet.
   */
  private error(message: Record<string, unknown>): StreamEvent {
    const reason = [message.message, message.reason].filter((r) => typeof r === "string").join(": ") || "error";
    if (/auth|jwt|unauthori[sz]ed/i.test(reason))
      return { kind: "fault", fault: "auth", reason, scope: { of: "connection" } };
    if (/limit|too many/i.test(reason))
      return { kind: "fault", fault: "connection-limit", reason, scope: { of: "connection" } };
    if (!/subscribe|product|symbol/i.test(reason))
      return { kind: "fault", fault: "protocol", reason, scope: { of: "none" } };
    // A product id as a word (BTC-USD is not BTC-USDT).
    const words = new Set(reason.split(/[^A-Za-z0-9-]+/));
    const named = [...this.subscribedNames()].find((n) => words.has(n));
    if (named === undefined) return { kind: "fault", fault: "refused-symbol", reason, scope: { of: "pending" } };
    const batch = [...this.batches].reverse().find((b) => b.includes(named)) ?? [named];
    return {
      kind: "fault",
      fault: "refused-symbol",
      reason,
      scope: {
        of: "symbols",
        symbols: this.oursOf(named),
        retry: batch.filter((n) => n !== named).flatMap((n) => this.oursOf(n)),
      },
    };
  }
}
