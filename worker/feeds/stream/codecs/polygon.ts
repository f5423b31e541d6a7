import { assetClass } from "../../../market/hours";
import { epochMs } from "../../normalize";
import { chunks, isRecord, malformed, type StreamCodecOptions, type StreamEvent } from "../codec";
import { polygonRule } from "../conditions";
import { BaseCodec } from "./base";

/**
 * Polygon (Massive) `wss://socket.polygon.io/stocks` (real time) or `wss://delayed.polygon.io/stocks`
 * (15 minutes late): `{"action":"auth","params":KEY}` → status `auth_success`/`auth_failed`;
 * `{"action":"subscribe","params":"T.AAPL,Q.AAPL"}`, each confirmed by a status `success`
 * "subscribed to: T.AAPL"; events `{"ev":"T","sym","p","s","t","c"}` (conditions as Polygon's
 * ids), `{"ev":"Q","sym","bp","ap","t"}`; status `max_connections` when a second connection
 * opens. No heartbeat of its own: a quiet connection is probed with a subscribe it already has.
 */
export class PolygonStream extends BaseCodec {
  readonly provider = "polygon";
  readonly probes = true;
  readonly confirms = true;
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
    return assetClass(symbol) === "equity" ? symbol : undefined;
  }
  override hello(): string[] {
    return [JSON.stringify({ action: "auth", params: this.options.key ?? "" })];
  }
  override probe(): string | undefined {
    const [name] = this.subscribedNames();
    return name === undefined ? undefined : JSON.stringify({ action: "subscribe", params: `T.${name}` });
  }
  protected subscribeNames(names: readonly string[]): string[] {
    return chunks(names, 200).map((s) =>
      JSON.stringify({ action: "subscribe", params: s.flatMap((n) => [`T.${n}`, `Q.${n}`]).join(",") }),
    );
  }
  protected unsubscribeNames(names: readonly string[]): string[] {
    return chunks(names, 200).map((s) =>
      JSON.stringify({ action: "unsubscribe", params: s.flatMap((n) => [`T.${n}`, `Q.${n}`]).join(",") }),
    );
  }
  protected events(message: unknown): StreamEvent[] {
    const items = Array.isArray(message) ? message : [message];
    return items.flatMap((m: unknown): StreamEvent[] => {
      if (!isRecord(m)) return [malformed("entry")];
      switch (m.ev) {
        case "T":
          return this.trade(m.sym, m.p, m.s, epochMs(m.t), polygonRule(m.c));
        case "Q":
          return this.quote(m.sym, m.bp, m.ap, epochMs(m.t));
        case "status":
          return [this.status(m)];
        default:
          return [{ kind: "heartbeat" }];
      }
    });
  }
  private status(m: Record<string, unknown>): StreamEvent {
    const reason = String(m.message ?? m.status);
    switch (m.status) {
      case "auth_success":
        return { kind: "ready" };
      case "auth_failed":
        return { kind: "fault", fault: "auth", reason, scope: { of: "connection" } };
      case "max_connections":
        return { kind: "fault", fault: "connection-limit", reason, scope: { of: "connection" } };
      case "error": {
        // A refused channel names its ticker ("not authorized for T.AAPL"): that symbol is polled.
        const symbols = [...reason.matchAll(/\b[TQ]\.([A-Z0-9.-]+)/g)].flatMap((m) => this.oursOf(m[1]));
        return symbols.length > 0
          ? { kind: "fault", fault: "refused-symbol", reason, scope: { of: "symbols", symbols } }
          : { kind: "fault", fault: "protocol", reason, scope: { of: "none" } };
      }
      case "success": {
        // "subscribed to: T.AAPL" (one per channel); the trade channel confirms the symbol.
        const match = /^subscribed to: T\.(.+)$/.exec(reason);
        return match ? { kind: "subscribed", symbols: this.oursOf(match[1]) } : { kind: "heartbeat" };
      }
      default:
        return { kind: "heartbeat" };
    }
  }
}
