import { assetClass } from "../../../market/hours";
import { epochMs } from "../../normalize";
import { isRecord, malformed, type StreamEvent } from "../codec";
import { BaseCodec } from "./base";

/**
 * Finnhub `wss://ws.finnhub.io?token=KEY`: `{"type":"subscribe","symbol":"AAPL"}` per
 * symbol, never confirmed (a symbol counts as streamed once it trades); trades as
 * `{"type":"trade","data":[{s,p,v,t,c}]}` (t in ms; its condition codes are not published
 * in a form we can map, so they restrict nothing); `{"type":"ping"}` keeps the connection and
 * proves it alive; errors as `{"type":"error","msg":…}`. Free plan: one connection per key,
 * 50 symbols.
 */
export class FinnhubStream extends BaseCodec {
  readonly provider = "finnhub";
  readonly probes = false;
  readonly confirms = false;
  readonly limits = { symbolsPerConnection: 50, messagesPerSecond: 30, connections: 1 };

  url(): string {
    const url = new URL(this.options.url ?? "wss://ws.finnhub.io");
    url.searchParams.set("token", this.options.key ?? "");
    return url.toString();
  }
  protected name(symbol: string) {
    return assetClass(symbol) === "equity" ? symbol : undefined;
  }
  protected subscribeNames(names: readonly string[]): string[] {
    return names.map((symbol) => JSON.stringify({ type: "subscribe", symbol }));
  }
  protected unsubscribeNames(names: readonly string[]): string[] {
    return names.map((symbol) => JSON.stringify({ type: "unsubscribe", symbol }));
  }
  protected events(message: unknown): StreamEvent[] {
    if (!isRecord(message)) return [malformed(JSON.stringify(message))];
    switch (message.type) {
      case "trade":
        if (!Array.isArray(message.data)) return [malformed("trade without data")];
        return message.data.flatMap((t: unknown) =>
          isRecord(t) ? this.trade(t.s, t.p, t.v, epochMs(t.t)) : [malformed("trade entry")],
        );
      case "error": {
        const reason = String(message.msg ?? "error");
        // Finnhub words its refusals; a key problem or a second connection ends the stream.
        if (/token|api key|unauthori[sz]ed|invalid key/i.test(reason))
          return [{ kind: "fault", fault: "auth", reason, scope: { of: "connection" } }];
        if (/limit|too many/i.test(reason))
          return [{ kind: "fault", fault: "connection-limit", reason, scope: { of: "connection" } }];
        // It does not say which symbol: the unconfirmed ones stay polled until they trade.
        if (/symbol/i.test(reason)) return [{ kind: "fault", fault: "refused-symbol", reason, scope: { of: "none" } }];
        return [{ kind: "fault", fault: "protocol", reason, scope: { of: "none" } }];
      }
      default:
        // `ping`, and message types added later: proof of life.
        return [{ kind: "heartbeat" }];
    }
  }
}
