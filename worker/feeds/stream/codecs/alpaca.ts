import { assetClass } from "../../../market/hours";
import { epochMs, num } from "../../normalize";
import { chunks, isRecord, malformed, type StreamCodecOptions, type StreamEvent } from "../codec";
import { alpacaRule } from "../conditions";
import { BaseCodec } from "./base";

/**
 * Alpaca market data `wss://stream.data.alpaca.markets/v2/{feed}` (iex free, sip,
 * delayed_sip 15 minutes late, test): `[{"T":"success","msg":"connected"}]`, then
 * `{"action":"auth","key","secret"}` → `authenticated`; subscribe with
 * `{"action":"subscribe","trades":[…],"quotes":[…]}`, answered by `subscription` with the
 * whole current list (our confirmation); every message is an array of
 * `{"T":"t"|"q"|"subscription"|"error"|"success",…}`; a trade's conditions `c` are read by its
 * tape `z`. Errors carry codes: 401/402/404/409 (credentials, plan) and 406 (connection limit)
 * end the connection's use; 405 (symbol limit) names no symbol and refuses its whole message:
 * we subscribe one symbol per message, so it is the oldest one not answered yet.
 * No heartbeat of its own: a quiet connection is probed with a subscribe it already has.
 */
export class AlpacaStream extends BaseCodec {
  readonly provider = "alpaca";
  readonly probes = true;
  readonly confirms = true;
  override readonly readyOnOpen = false;
  /** The free plan's 30 symbols on every feed: a paid plan says its own with FEED_STREAM_SYMBOLS. */
  readonly limits = { symbolsPerConnection: 30, messagesPerSecond: 10, connections: 1 };
  override readonly delayed: boolean;
  private readonly feed: string;

  constructor(options: StreamCodecOptions) {
    super(options);
    this.feed = options.alpacaDataFeed ?? "iex";
    this.delayed = this.feed === "delayed_sip";
  }

  url(): string {
    if (this.options.url) return this.options.url.replace(/\{feed\}/, this.feed);
    return `wss://stream.data.alpaca.markets/v2/${this.feed}`;
  }
  protected name(symbol: string) {
    return assetClass(symbol) === "equity" ? symbol : undefined;
  }
  override hello(): string[] {
    return [JSON.stringify({ action: "auth", key: this.options.key ?? "", secret: this.options.secret ?? "" })];
  }
  override probe(): string | undefined {
    const [name] = this.subscribedNames();
    return name === undefined ? undefined : JSON.stringify({ action: "subscribe", trades: [name] });
  }
  /** One symbol per message: a refusal (405) names none, and answers come in order, so it is the oldest unanswered. */
  protected subscribeNames(names: readonly string[]): string[] {
    return names.map((s) => JSON.stringify({ action: "subscribe", trades: [s], quotes: [s] }));
  }
  protected unsubscribeNames(names: readonly string[]): string[] {
    return chunks(names, 100).map((s) => JSON.stringify({ action: "unsubscribe", trades: s, quotes: s }));
  }
  protected events(message: unknown): StreamEvent[] {
    const items = Array.isArray(message) ? message : [message];
    return items.flatMap((m: unknown): StreamEvent[] => {
      if (!isRecord(m)) return [malformed("entry")];
      switch (m.T) {
        case "t":
          return this.trade(m.S, m.p, m.s, epochMs(m.t), alpacaRule(m.c, m.z));
        case "q":
          return this.quote(m.S, m.bp, m.ap, epochMs(m.t));
        case "success":
          return [m.msg === "authenticated" ? { kind: "ready" } : { kind: "heartbeat" }];
        case "subscription":
          return [
            {
              kind: "subscribed",
              symbols: (Array.isArray(m.trades) ? m.trades : []).flatMap((s: unknown) => this.oursOf(s)),
            },
          ];
        case "error":
          return [alpacaError(num(m.code), String(m.msg ?? "error"))];
        default:
          // Corrections (`c`) and cancels (`x`) of earlier trades, bars, statuses: not applied.
          return [{ kind: "heartbeat" }];
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
      return { kind: "fault", fault: "auth", reason, scope: { of: "connection" } };
    case 406:
      return { kind: "fault", fault: "connection-limit", reason, scope: { of: "connection" } };
    case 405:
      return { kind: "fault", fault: "symbol-limit", reason, scope: { of: "oldest-pending" } };
    default:
      return { kind: "fault", fault: "protocol", reason, scope: { of: "none" } };
  }
}
