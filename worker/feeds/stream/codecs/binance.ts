import { assetClass } from "../../../market/hours";
import { epochMs } from "../../normalize";
import { chunks, isRecord, malformed, type StreamEvent } from "../codec";
import { BaseCodec } from "./base";

/**
 * Binance combined streams `wss://stream.binance.com:9443/stream`: live
 * `{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@bookTicker"],"id":n}`, acknowledged
 * `{"result":null,"id":n}` even for a pair it does not list (so a symbol counts as streamed only
 * once it trades); data as `{"stream":…,"data":{"e":"trade","s","p","q","T"}}`. Limits: 5
 * incoming messages a second, 1024 streams per connection, connections end after 24 h. It pings
 * at the protocol level (answered by the runtime, unseen by us): a quiet connection is probed
 * with `LIST_SUBSCRIPTIONS`. BTC-USD trades as BTCUSDT, as the REST adapter maps it; so does
 * BTC-USDT, and each gets the pair's trades.
 */
export class BinanceStream extends BaseCodec {
  readonly provider = "binance";
  readonly probes = true;
  readonly confirms = false;
  readonly limits = {
    symbolsPerConnection: 512,
    messagesPerSecond: 5,
    maxConnectionMs: 24 * 3_600_000,
    connections: 300,
  };
  private nextId = 1;
  /** The pairs each SUBSCRIBE asked for: an error names the request, not the pair. */
  private readonly requested = new Map<number, string[]>();

  url(): string {
    return this.options.url ?? "wss://stream.binance.com:9443/stream";
  }
  protected name(symbol: string) {
    if (assetClass(symbol) !== "crypto") return undefined;
    const [base, quote] = symbol.split("-");
    return `${base}${quote === "USD" ? "USDT" : quote}`;
  }
  override probe(): string {
    return JSON.stringify({ method: "LIST_SUBSCRIPTIONS", id: this.nextId++ });
  }
  protected subscribeNames(names: readonly string[]): string[] {
    return this.request("SUBSCRIBE", names);
  }
  protected unsubscribeNames(names: readonly string[]): string[] {
    return this.request("UNSUBSCRIBE", names);
  }
  private request(method: string, names: readonly string[]): string[] {
    // Two streams per pair; 100 pairs keep each message small.
    return chunks(names, 100).map((batch) => {
      const id = this.nextId++;
      if (method === "SUBSCRIBE") this.requested.set(id, [...batch]);
      if (this.requested.size > 100) this.requested.delete(this.requested.keys().next().value!);
      const params = batch.flatMap((n) => [`${n.toLowerCase()}@trade`, `${n.toLowerCase()}@bookTicker`]);
      return JSON.stringify({ method, params, id });
    });
  }
  protected events(message: unknown): StreamEvent[] {
    if (!isRecord(message)) return [malformed("not an object")];
    if (isRecord(message.error)) {
      const reason = `${String(message.error.code ?? "?")} ${String(message.error.msg ?? "error")}`;
      const names = typeof message.id === "number" ? this.requested.get(message.id) : undefined;
      if (!names) return [{ kind: "fault", fault: "protocol", reason, scope: { of: "none" } }];
      // A refused SUBSCRIBE fails as a whole: the pair its message names is polled, the others are asked for again.
      const named = names.filter((n) => reason.toLowerCase().includes(`${n.toLowerCase()}@`));
      const refused = named.length > 0 ? named : names;
      return [
        {
          kind: "fault",
          fault: "refused-symbol",
          reason,
          scope: {
            of: "symbols",
            symbols: refused.flatMap((n) => this.oursOf(n)),
            retry: names.filter((n) => !refused.includes(n)).flatMap((n) => this.oursOf(n)),
          },
        },
      ];
    }
    if ("result" in message && "id" in message) {
      if (typeof message.id === "number") this.requested.delete(message.id);
      // An acknowledgement (or a probe's answer): it proves the connection, not the pair.
      return [{ kind: "heartbeat" }];
    }
    const data = isRecord(message.data) ? message.data : message;
    if (data.e === "trade") return this.trade(data.s, data.p, data.q, epochMs(data.T));
    if (typeof message.stream === "string" && message.stream.endsWith("@bookTicker"))
      return this.quote(data.s, data.b, data.a, undefined);
    return [malformed("unknown stream message")];
  }
}
