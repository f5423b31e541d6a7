import type { IMessage, StompSubscription } from "@stomp/stompjs";
import { CoreApi } from "./api";
import { TickBatches } from "./batches";
import type { TransportChoice } from "./carrier";
import { type Clearance, type Refusal, SymbolChecks } from "./checks";
import type { EdgeTickerError } from "./errors";
import { Link } from "./link";
import type { ClientEvents, ConnectOptions, Delivery, Gap, Listener, SubscribeOptions } from "./options";
import { type Arrival, Positions } from "./positions";
import { fromHost, type SockJSLoader } from "./sockjs";
import type { ConnectionState } from "./state";
import {
  type Decoded,
  destinationFor,
  type FrameDecoder,
  type Messages,
  type StreamName,
  WIRE_FORMATS,
  type WireFormatName,
} from "./streams";
import { TokenKeeper, tokenFromUrl } from "./token-keeper";

export type { ClientEvents, ConnectOptions, Delivery, Gap, Listener, SubscribeOptions };

interface Sink extends SubscribeOptions {
  listener: Listener<never>;
}

/** One STOMP subscription, shared by every subscription that asks for the same. */
interface Stream {
  key: string;
  name: StreamName;
  symbol: string;
  /** An explicit throttle; undefined follows the client's default (ticks only). */
  throttleMs: number | undefined;
  sinks: Set<Sink>;
  stomp?: StompSubscription;
  /** In a watchlist batch (batches.ts) instead of a STOMP subscription of its own. */
  batched?: boolean;
}

/**
 * One Edge Ticker host's streams over one connection, with callbacks: subscriptions shared,
 * resumed from their positions on every reconnect, symbols checked before they are
 * subscribed. `TickerClient` (what `connect()` makes) adds iterable subscriptions.
 */
export class TickerCore {
  readonly api: CoreApi;
  readonly #link: Link;
  readonly #streams = new Map<string, Stream>();
  readonly #positions = new Positions();
  readonly #checks: SymbolChecks;
  readonly #listeners = new Map<keyof ClientEvents, Set<(e: never) => void>>();
  #throttleMs: number | undefined;
  readonly #format: WireFormatName;
  readonly #batches: TickBatches<Stream>;
  /** Ticks go in batches (the format has them, and no batch was refused on this client). */
  #batching: boolean;

  /**
   * `loadSockJS`: how sockjs-client is loaded when no `sockjs` option brings it (the core:
   * from the host, in a browser; `TickerClient` also from the package in Node).
   */
  constructor(options: ConnectOptions, loadSockJS: SockJSLoader = fromHost) {
    const url = options.url.replace(/\/+$/, "");
    const source =
      typeof options.token === "function" ? options.token : options.tokenUrl && tokenFromUrl(options.tokenUrl);
    const tokens = source ? new TokenKeeper(source, (token) => this.#link.handOver(token)) : undefined;
    const fixedToken = typeof options.token === "string" ? options.token : undefined;
    this.#throttleMs = options.throttleMs;
    this.#format = options.format ?? "compact";
    this.#batching = WIRE_FORMATS[this.#format].batches;
    this.#batches = new TickBatches<Stream>({
      connected: () => this.#link.connected,
      throttleOf: (s) => this.#throttleOf(s),
      subscribe: (destination, headers, onBody) => this.#link.subscribe(destination, headers, (m) => onBody(m.body)),
      since: (s) => this.#positions.since(s.key),
      deliver: (s, decoded) => this.#deliver(s, decoded),
    });
    this.api = this.newApi(url, async (): Promise<Record<string, string>> => {
      const token = fixedToken ?? (await tokens?.current().catch(() => undefined));
      return token ? { Authorization: `Bearer ${token}` } : {};
    });
    this.#checks = new SymbolChecks(this.api, (symbol, c) => this.#settled(symbol, c));
    this.#link = new Link({
      url,
      transport: options.transport ?? "auto",
      sockjsTransports: options.sockjsTransports,
      heartbeatMs: options.heartbeatMs ?? 10_000,
      checkOrigin: options.checkOrigin ?? false,
      tokens,
      fixedToken,
      sockjs: options.sockjs,
      loadSockJS,
      onState: (state) => this.#emit("state", state),
      onOpen: () => this.#opened(),
      onError: (error, receipt) => this.#serverError(error, receipt),
    });
    this.#link.start();
  }

  get state(): ConnectionState {
    return this.#link.current;
  }

  /** The smoothed round trip of a heart-beat, once measured. */
  get roundTripMs(): number | undefined {
    return this.#link.liveness.roundTripMs;
  }

  /** The HTTP API this client's requests go to (with its token). */
  protected newApi(url: string, headers: () => Promise<Record<string, string>>): CoreApi {
    return new CoreApi(url, headers);
  }

  on<E extends keyof ClientEvents>(event: E, listener: (e: ClientEvents[E]) => void): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Messages of one of `symbol`'s streams (`ticks`, `bars`, `viewers`), the newest at once;
   * ticks and bars resumed without loss across reconnects. Returns the unsubscribe function.
   */
  subscribe<N extends StreamName>(
    name: N,
    symbol: string,
    options: SubscribeOptions,
    listener: Listener<Messages[N]>,
  ): () => void {
    const throttleMs = options.throttleMs;
    const key = `${name}.${symbol}${throttleMs === undefined ? "" : `@${throttleMs}`}`;
    let stream = this.#streams.get(key);
    if (!stream) {
      stream = { key, name, symbol, throttleMs, sinks: new Set() };
      this.#streams.set(key, stream);
    }
    const s = stream;
    const sink: Sink = { ...options, listener: listener as Listener<never> };
    s.sinks.add(sink);
    const clearance = this.#checks.clearance(symbol);
    if (clearance.kind === "refused") this.#refuse(s, sink, clearance.refusal);
    else this.#checks.check(symbol);
    this.#subscribe(s);
    return () => this.#drop(s, sink);
  }

  /** The default throttle of ticks subscriptions without their own; each is renewed from its position (nothing skipped). */
  setThrottle(ms: number | undefined): void {
    if (ms === this.#throttleMs) return;
    this.#throttleMs = ms;
    for (const s of this.#streams.values()) if (s.name === "ticks" && s.throttleMs === undefined) this.#renew(s);
  }

  /** Switches transport (SockJS transports by name when `sockjs`); reconnects at once. */
  setTransport(choice: TransportChoice, sockjsTransports?: string[]): void {
    this.#link.setTransport(choice, sockjsTransports);
  }

  /** Reconnects now instead of at the end of the backoff. */
  retryNow(): void {
    this.#link.retry();
  }

  /** Ends every subscription and the connection, for good. */
  async close(): Promise<void> {
    for (const s of [...this.#streams.values()])
      for (const sink of [...s.sinks]) {
        this.#drop(s, sink);
        sink.onClosed?.();
      }
    await this.#link.stop({ kind: "closed" });
  }

  #drop(stream: Stream, sink: Sink): void {
    if (!stream.sinks.delete(sink) || stream.sinks.size > 0) return;
    if (this.#link.connected) stream.stomp?.unsubscribe();
    if (stream.batched) this.#batches.remove(stream);
    stream.stomp = undefined;
    stream.batched = false;
    this.#streams.delete(stream.key);
    this.#positions.forget(stream.key);
  }

  /** Subscribes a stream that is wanted, cleared and not yet subscribed, once the connection is up. */
  #subscribe(stream: Stream): void {
    if (stream.stomp || stream.batched || !this.#link.connected) return;
    if (this.#checks.clearance(stream.symbol).kind !== "cleared") return;
    const format = WIRE_FORMATS[this.#format];
    if (stream.name === "ticks" && this.#batching) {
      stream.batched = true;
      this.#batches.add(stream);
      return;
    }
    // The receipt names the stream, so that an ERROR refusing the SUBSCRIBE (its `receipt-id`) names it too.
    const headers: Record<string, string> = { ...format.subscribeHeaders, receipt: stream.key };
    // Only streams whose messages carry positions ever have one to resume from.
    const since = this.#positions.since(stream.key);
    if (since) headers["x-since"] = since;
    const throttle = this.#throttleOf(stream);
    if (throttle !== undefined) headers["x-throttle-ms"] = String(throttle);
    const decode: FrameDecoder<unknown> = format.decoder(stream.name);
    stream.stomp = this.#link.subscribe(destinationFor(stream.name, stream.symbol), headers, (m: IMessage) =>
      this.#receive(stream, decode, m),
    );
  }

  /** The throttle a stream is subscribed with: its own, or the client's default for ticks. */
  #throttleOf(stream: Stream): number | undefined {
    return stream.throttleMs ?? (stream.name === "ticks" ? this.#throttleMs : undefined);
  }

  #renew(stream: Stream): void {
    if ((!stream.stomp && !stream.batched) || !this.#link.connected) return;
    stream.stomp?.unsubscribe();
    if (stream.batched) this.#batches.remove(stream);
    stream.stomp = undefined;
    stream.batched = false;
    this.#subscribe(stream);
  }

  #receive(stream: Stream, decode: FrameDecoder<unknown>, message: IMessage): void {
    this.#deliver(stream, decode(message));
  }

  #deliver(stream: Stream, { value, position, arrival: marked }: Decoded<unknown>): void {
    let arrival: Arrival = marked;
    if (position) {
      // Unthrottled ticks carry every position: a jump is a loss. (Throttled ones and bars skip by design.)
      const complete = stream.name === "ticks" && this.#throttleOf(stream) === undefined;
      const verdict = this.#positions.accept(stream.key, position, marked, complete);
      if (verdict.kind === "duplicate") return;
      arrival = verdict.arrival;
    }
    if (arrival.kind === "gap")
      this.#emit("gap", { stream: stream.name, symbol: stream.symbol, missed: arrival.missed });
    const delivery: Delivery = { arrival, position };
    for (const sink of stream.sinks) sink.listener(value as never, delivery);
  }

  #opened(): void {
    this.#checks.retry();
    this.#batches.reset();
    for (const s of this.#streams.values()) {
      s.stomp = undefined;
      s.batched = false;
      this.#subscribe(s);
    }
  }

  #settled(symbol: string, clearance: Clearance): void {
    for (const s of [...this.#streams.values()]) {
      if (s.symbol !== symbol) continue;
      if (clearance.kind === "refused") for (const sink of [...s.sinks]) this.#refuse(s, sink, clearance.refusal);
      else this.#subscribe(s);
    }
    if (clearance.kind === "refused") this.#emit("refused", clearance.refusal);
  }

  #refuse(stream: Stream, sink: Sink, refusal: Refusal): void {
    this.#drop(stream, sink);
    sink.onRefused?.(refusal);
  }

  /** An ERROR answering a SUBSCRIBE refuses that symbol (the rest resume on the reconnect); any other is the connection's. */
  #serverError(error: EdgeTickerError, receipt: string | undefined): boolean {
    this.#emit("error", error);
    if (receipt !== undefined && this.#batches.owns(receipt)) {
      // A batch refused (a symbol the token may not have): which symbol, subscriptions of their own will say.
      this.#batching = false;
      return true;
    }
    const stream = receipt === undefined ? undefined : this.#streams.get(receipt);
    if (!stream) return false;
    this.#checks.refuse({ symbol: stream.symbol, code: error.code, reason: error.details ?? error.message });
    return true;
  }

  #emit<E extends keyof ClientEvents>(event: E, value: ClientEvents[E]): void {
    for (const l of this.#listeners.get(event) ?? []) (l as (e: ClientEvents[E]) => void)(value);
  }
}
