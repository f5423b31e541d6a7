import { type ConditionRule, REGULAR } from "../../../market/trade-conditions";
import { entryOf } from "../../../multimap";
import { num, price } from "../../normalize";
import {
  malformed,
  parseJson,
  type StreamCodec,
  type StreamCodecOptions,
  type StreamEvent,
  type StreamLimits,
} from "../codec";

/**
 * What every provider's codec shares: which of our symbols each subscribed provider name
 * stands for. Several of ours may share one name (BTC-USD and BTC-USDT both trade as Binance's
 * BTCUSDT; Coinbase answers BTC-USDC as BTC-USD): each gets the name's trades, the name is
 * subscribed once and unsubscribed only when none of ours needs it any more. Pure.
 */
export abstract class BaseCodec implements StreamCodec {
  abstract readonly provider: string;
  abstract readonly limits: StreamLimits;
  abstract readonly confirms: boolean;
  abstract readonly probes: boolean;
  readonly delayed: boolean = false;
  readonly readyOnOpen: boolean = true;
  /** Subscribed provider names and the symbols of ours each stands for. */
  private readonly ours = new Map<string, Set<string>>();

  constructor(protected readonly options: StreamCodecOptions) {}

  abstract url(): string;
  /** The provider's name for `symbol`, or undefined when its stream does not carry it. */
  protected abstract name(symbol: string): string | undefined;
  protected abstract subscribeNames(names: readonly string[]): string[];
  protected abstract unsubscribeNames(names: readonly string[]): string[];
  protected abstract events(message: unknown): StreamEvent[];

  providerSymbol(symbol: string): string | undefined {
    return this.name(symbol);
  }

  hello(): string[] {
    return [];
  }

  probe(): string | undefined {
    return undefined;
  }

  subscribe(symbols: readonly string[]): string[] {
    const added: string[] = [];
    for (const s of symbols) {
      const name = this.name(s);
      if (name === undefined) continue;
      const holders = entryOf(this.ours, name, () => new Set<string>());
      if (holders.size === 0) added.push(name);
      holders.add(s);
    }
    return added.length > 0 ? this.subscribeNames(added) : [];
  }

  unsubscribe(symbols: readonly string[]): string[] {
    const removed: string[] = [];
    for (const s of symbols) {
      const name = this.name(s);
      const holders = name === undefined ? undefined : this.ours.get(name);
      if (!holders?.delete(s) || holders.size > 0) continue;
      this.ours.delete(name!);
      removed.push(name!);
    }
    return removed.length > 0 ? this.unsubscribeNames(removed) : [];
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

  /** Our symbols a provider name stands for (none: not one we subscribed). */
  protected oursOf(name: unknown): string[] {
    const holders = typeof name === "string" ? this.ours.get(name) : undefined;
    return holders ? [...holders] : [];
  }

  /** The provider names subscribed now (a probe asks about one of them). */
  protected subscribedNames(): IterableIterator<string> {
    return this.ours.keys();
  }

  /** One trade event per symbol of ours the name stands for. */
  protected trade(
    name: unknown,
    p: unknown,
    size: unknown,
    ts: number | undefined,
    rule: ConditionRule = REGULAR,
  ): StreamEvent[] {
    const symbols = this.oursOf(name);
    const value = price(p);
    if (symbols.length === 0 || value === undefined)
      return [{ kind: "malformed", reason: "trade without a known symbol or a valid price" }];
    const volume = num(size);
    return symbols.map((symbol) => ({
      kind: "trade",
      symbol,
      price: value,
      ...(volume !== undefined && volume >= 0 ? { size: volume } : {}),
      ...(ts !== undefined ? { ts } : {}),
      rule,
    }));
  }

  protected quote(name: unknown, bid: unknown, ask: unknown, ts: number | undefined): StreamEvent[] {
    const symbols = this.oursOf(name);
    if (symbols.length === 0) return [{ kind: "malformed", reason: "quote without a known symbol" }];
    const b = price(bid);
    const a = price(ask);
    if (b === undefined && a === undefined) return [{ kind: "malformed", reason: "quote without a bid or an ask" }];
    return symbols.map((symbol) => ({
      kind: "quote",
      symbol,
      ...(b !== undefined ? { bid: b } : {}),
      ...(a !== undefined ? { ask: a } : {}),
      ...(ts !== undefined ? { ts } : {}),
    }));
  }
}
