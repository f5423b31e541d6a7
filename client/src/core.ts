import type { IMessage, StompSubscription } from "@stomp/stompjs";
import { CoreApi } from "./api";
import type { TransportChoice } from "./carrier";
import { type Clearance, type Refusal, SymbolChecks } from "./checks";
import type { EdgeTickerError } from "./errors";
import { Link } from "./link";
import { type Arrival, type Position, Positions } from "./positions";
import { fromHost, type SockJSConstructor, type SockJSLoader } from "./sockjs";
import type { ConnectionState } from "./state";
import {
  destinationFor,
  type FrameDecoder,
  type Messages,
  type StreamName,
  WIRE_FORMATS,
  type WireFormatName,
} from "./streams";
import { TokenKeeper, type TokenSource, tokenFromUrl } from "./token-keeper";

export interface ConnectOptions {
  /** The Edge Ticker host, e.g. `https://ticker.example.com` (its `/ws` and `/sockjs` are used). */
  url: string;
  /** A subscriber token, or a function that answers a fresh one (called before each connect and before expiry). */
  token?: string | TokenSource;
  /** A URL answering a fresh token (text, or JSON `{"token": "..."}`), fetched with the page's cookies. */
  tokenUrl?: string;
  /** `auto` (default): WebSocket, SockJS when a WebSocket is blocked; or one of them only. */
  transport?: TransportChoice;
  /** The SockJS transports to use (default: every HTTP transport). */
  sockjsTransports?: string[];
  /** sockjs-client's constructor, if you bring your own (default: loaded when first needed). */
  sockjs?: SockJSConstructor;
  /** The heart-beat period asked for (default 10,000 ms; the server may ask for a longer one). */
  heartbeatMs?: number;
  /** Default `x-throttle-ms` of `ticks()` subscriptions that set none (default: every tick). */
  throttleMs?: number;
  /** Ask `/api/origin` whether this site may connect, and stop if not (for embeds on other sites). */
  checkOrigin?: boolean;
  /** How messages are encoded on the wire: `json` (the default), or `compact` (short keys, only what changed; ~5× fewer bytes a tick). */
  format?: WireFormatName;
}

/** How a message was delivered: live, replayed after a reconnect, or after a gap; and its stream position. */
export interface Delivery {
  arrival: Arrival;
  position: Position | undefined;
}
export type Listener<T> = (value: T, delivery: Delivery) => void;

/** Messages of a stream that could not be recovered after a reconnect (`missed`: how many, when known). */
export interface Gap {
  stream: StreamName;
  symbol: string;
  missed: number | undefined;
}

export interface ClientEvents {
  state: ConnectionState;
  gap: Gap;
  refused: Refusal;
  error: EdgeTickerError;
}

export interface SubscribeOptions {
  /** At most one message per this many ms, always the newest (100 to 60,000; ticks only). */
  throttleMs?: number;
  /** The host has no stream of this symbol (it does not know it, does not carry it, or refused it): the subscription ends. */
  onRefused?: (refusal: Refusal) => void;
  /** The subscription ended from the client's side (`close()`). */
  onClosed?: () => void;
}

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
    this.#format = options.format ?? "json";
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
    stream.stomp = undefined;
    this.#streams.delete(stream.key);
    this.#positions.forget(stream.key);
  }

  /** Subscribes a stream that is wanted, cleared and not yet subscribed, once the connection is up. */
  #subscribe(stream: Stream): void {
    if (stream.stomp || !this.#link.connected || this.#checks.clearance(stream.symbol).kind !== "cleared") return;
    const format = WIRE_FORMATS[this.#format];
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
    if (!stream.stomp || !this.#link.connected) return;
    stream.stomp.unsubscribe();
    stream.stomp = undefined;
    this.#subscribe(stream);
  }

  #receive(stream: Stream, decode: FrameDecoder<unknown>, message: IMessage): void {
    const { value, position, arrival: marked } = decode(message);
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
    for (const s of this.#streams.values()) {
      s.stomp = undefined;
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
    const stream = receipt === undefined ? undefined : this.#streams.get(receipt);
    if (!stream) return false;
    this.#checks.refuse({ symbol: stream.symbol, code: error.code, reason: error.details ?? error.message });
    return true;
  }

  #emit<E extends keyof ClientEvents>(event: E, value: ClientEvents[E]): void {
    for (const l of this.#listeners.get(event) ?? []) (l as (e: ClientEvents[E]) => void)(value);
  }
}
