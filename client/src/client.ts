import { Api } from "./api";
import { type ConnectOptions, type Listener, type SubscribeOptions, TickerCore } from "./core";
import { EdgeTickerError } from "./errors";
import { loadSockJS } from "./sockjs";
import type { Messages, StreamName } from "./streams";
import { feed, type Subscription } from "./subscription";

/** `ticks()` options: a throttle, and who hears why when the host has no such symbol. */
export type TickOptions = Omit<SubscribeOptions, "onClosed">;

/**
 * A client of one Edge Ticker host, what `connect()` makes: the core's streams as
 * subscriptions that are both unsubscribe functions and async iterables.
 */
export class TickerClient extends TickerCore {
  /** The HTTP API: quotes, history, bars and symbol checks, with this client's token. */
  declare readonly api: Api;

  constructor(options: ConnectOptions) {
    super(options, loadSockJS);
  }

  protected override newApi(url: string, headers: () => Promise<Record<string, string>>): Api {
    return new Api(url, headers);
  }

  /** Every tick of `symbol` (the newest at once), resumed without loss across reconnects. */
  ticks(
    symbol: string,
    options: TickOptions | Listener<Messages["ticks"]> = {},
    listener?: Listener<Messages["ticks"]>,
  ): Subscription<Messages["ticks"]> {
    return typeof options === "function"
      ? this.#iterable("ticks", symbol, {}, options)
      : this.#iterable("ticks", symbol, options, listener);
  }

  /** One-minute bars of `symbol`: the recent ones at once, then the forming bar (at most once a second) and each final one. */
  bars(symbol: string, _interval: "1m", listener?: Listener<Messages["bars"]>): Subscription<Messages["bars"]> {
    return this.#iterable("bars", symbol, {}, listener);
  }

  /** How many subscriptions `symbol` has across the service (at most one update a second). */
  viewers(symbol: string, listener?: Listener<Messages["viewers"]>): Subscription<Messages["viewers"]> {
    return this.#iterable("viewers", symbol, {}, listener);
  }

  #iterable<N extends StreamName>(
    name: N,
    symbol: string,
    options: TickOptions,
    listener: Listener<Messages[N]> | undefined,
  ): Subscription<Messages[N]> {
    let stop = () => {};
    const f = feed<Messages[N]>(symbol, () => stop());
    stop = this.subscribe(
      name,
      symbol,
      {
        ...options,
        onRefused: (refusal) => {
          options.onRefused?.(refusal);
          f.fail(new EdgeTickerError(refusal.code, refusal.reason));
        },
        onClosed: () => f.subscription(),
      },
      (value, delivery) => {
        listener?.(value, delivery);
        f.push(value);
      },
    );
    return f.subscription;
  }
}

/** Connects to an Edge Ticker host (at once; it reconnects by itself until `close()`). */
export function connect(options: ConnectOptions): TickerClient {
  return new TickerClient(options);
}
