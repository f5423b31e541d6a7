import { Client, type IMessage, type StompSubscription } from "@stomp/stompjs";
import { TOKEN_DESTINATION } from "../../../worker/broker/session-state";
import { topicFor } from "../../../worker/market/symbol";
import { reconnectDelay } from "./backoff";
import { loadSockJS } from "./sockjs-loader";
import type { Tick } from "./tick";
import { TokenKeeper, type TokenSource } from "./token-keeper";

export const TRANSPORTS = ["auto", "websocket", "xhr-streaming", "xhr-polling", "eventsource", "iframe-eventsource", "jsonp-polling"] as const;
export type TransportChoice = (typeof TRANSPORTS)[number];

export type LinkState = "connecting" | "connected" | "reconnecting" | "failed" | "not-enabled";

export interface LinkStatus {
  state: LinkState;
  /** The transport of the current connection ("websocket", "xhr-streaming", ...). */
  transport?: string;
  /** Consecutive failed attempts. */
  failures: number;
  /** When the next attempt starts (reconnecting/failed). */
  retryAt?: number;
  /** Time of the newest tick received. */
  lastTickAt?: number;
}

/** How a tick reached us: live, replayed after a reconnect, or the newest after ticks that could not be recovered. */
export type Arrival = { kind: "live" } | { kind: "replayed" } | { kind: "gap"; missed?: number };

type Listener = (tick: Tick, arrival: Arrival) => void;

/** A stream position from a MESSAGE's x-epoch and x-seq. */
interface Position {
  epoch: string;
  seq: number;
}

const SOCKJS_FALLBACK = ["xhr-streaming", "xhr-polling", "eventsource", "iframe-eventsource", "jsonp-polling"];
/** After this many failures in a row the state reads "failed" (it keeps retrying, slowly). */
const FAILED_AFTER = 6;

/** A SockJS transport picked by hand (auto starts on WebSocket and may fall back later). */
function forcesSockJS(choice: TransportChoice): boolean {
  return choice !== "auto" && choice !== "websocket";
}

/**
 * One STOMP connection to an Edge Ticker host, shared by everything on the page.
 * WebSocket first; in auto mode it falls back to SockJS (loaded from the host) when
 * WebSocket fails. Reconnects with exponential backoff and jitter and resubscribes from
 * the last position of each symbol (`x-since`), so ticks missed while away are replayed,
 * or the newest one arrives marked as a gap. An optional throttle asks the server for at
 * most one tick per interval per symbol (`x-throttle-ms`). With a token source, each
 * CONNECT carries a fresh token and a new one is handed over on `/app/token` before the
 * current one expires.
 */
export class TickerConnection {
  private readonly client: Client;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly stompSubs = new Map<string, StompSubscription>();
  private readonly positions = new Map<string, Position>();
  private readonly viewerListeners = new Map<string, Set<(viewers: number) => void>>();
  private readonly viewerSubs = new Map<string, StompSubscription>();
  private throttleMs: number | undefined;
  private readonly statusListeners = new Set<(s: LinkStatus) => void>();
  private status: LinkStatus = { state: "connecting", failures: 0 };
  private choice: TransportChoice;
  private useSockJS: boolean;
  private sockjsCtor: Awaited<ReturnType<typeof loadSockJS>> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectedThisAttempt = false;
  private stopped = true;
  private readonly tokens: TokenKeeper | undefined;

  constructor(
    private readonly host: string,
    options: { transport?: TransportChoice; checkOrigin?: boolean; throttleMs?: number; token?: TokenSource } = {},
  ) {
    this.choice = options.transport ?? "auto";
    this.throttleMs = options.throttleMs;
    this.tokens = options.token && new TokenKeeper(options.token, (token) => this.handOver(token));
    this.useSockJS = forcesSockJS(this.choice);
    this.client = new Client({
      reconnectDelay: 0, // reconnects are ours: backoff with jitter, and a transport decision per attempt
      connectionTimeout: 10_000,
      heartbeatIncoming: 20_000,
      heartbeatOutgoing: 10_000,
      beforeConnect: async () => {
        this.connectedThisAttempt = false;
        if (typeof WebSocket !== "function") this.useSockJS = true;
        // A failed load (offline) must not end the reconnect loop: this attempt goes out as a
        // plain WebSocket, fails or not, and the next one tries SockJS again.
        if (this.useSockJS) this.sockjsCtor = await loadSockJS(this.host).catch(() => undefined);
        // No token (the site's endpoint failed): connect anyway; the public policy applies, or the server says why not.
        const token = await this.token();
        this.client.connectHeaders = token ? { passcode: token } : {};
      },
      webSocketFactory: () => this.createSocket(),
    });
    this.client.onConnect = () => this.onConnect();
    this.client.onWebSocketClose = () => this.onClose();
    this.client.onStompError = (frame) => console.warn("edge-ticker: server error", frame.headers.message);
    if (options.checkOrigin) void this.checkOrigin();
  }

  get transport(): TransportChoice {
    return this.choice;
  }

  get current(): LinkStatus {
    return this.status;
  }

  onStatus(listener: (s: LinkStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  /** `Authorization` for the HTTP API, carrying the same token as the connection (none without a token source). */
  async authHeaders(): Promise<Record<string, string>> {
    const token = await this.token();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  /** The current token; none without a token source, or when the site's endpoint failed. */
  private async token(): Promise<string | undefined> {
    return this.tokens?.current().catch(() => undefined);
  }

  /** Live ticks of `symbol` (the latest one first); returns the unsubscribe function. */
  subscribe(symbol: string, listener: Listener): () => void {
    return this.share(this.listeners, this.stompSubs, symbol, listener, (s) => this.stompSubscribe(s));
  }

  /** Live subscription count of `symbol` across the service (at most one update a second). */
  watchViewers(symbol: string, listener: (viewers: number) => void): () => void {
    return this.share(this.viewerListeners, this.viewerSubs, symbol, listener, (s) => this.viewersSubscribe(s));
  }

  /** One STOMP subscription per symbol, shared by every listener of it (views and widgets alike). */
  private share<L>(
    listeners: Map<string, Set<L>>,
    subs: Map<string, StompSubscription>,
    symbol: string,
    listener: L,
    open: (symbol: string) => void,
  ): () => void {
    let set = listeners.get(symbol);
    if (!set) {
      listeners.set(symbol, (set = new Set()));
      if (this.client.connected) open(symbol);
    }
    set.add(listener);
    this.start();
    return () => {
      set.delete(listener);
      if (set.size > 0) return;
      listeners.delete(symbol);
      subs.get(symbol)?.unsubscribe();
      subs.delete(symbol);
    };
  }

  /**
   * At most one tick per `ms` per symbol from now on (undefined: every tick). Every
   * subscription is renewed from its last position, so nothing is skipped at the switch.
   */
  setThrottle(ms: number | undefined): void {
    if (ms === this.throttleMs) return;
    this.throttleMs = ms;
    if (!this.client.connected) return;
    for (const [symbol, sub] of this.stompSubs) {
      sub.unsubscribe();
      this.stompSubscribe(symbol);
    }
  }

  /** Switches transport (the picker); reconnects at once. */
  setTransport(choice: TransportChoice): void {
    this.choice = choice;
    this.useSockJS = forcesSockJS(choice);
    this.restart();
  }

  private start(): void {
    if (!this.stopped || this.status.state === "not-enabled") return;
    this.stopped = false;
    this.setStatus({ ...this.status, state: "connecting" });
    this.client.activate();
  }

  private restart(): void {
    clearTimeout(this.retryTimer);
    this.stopped = true;
    void this.client.deactivate().then(() => {
      this.setStatus({ state: "connecting", failures: 0 });
      this.start();
    });
  }

  /** The host places the connection on a hub near the viewer; every symbol rides on it. */
  private createSocket(): WebSocket {
    if (this.useSockJS && this.sockjsCtor) {
      const transports = this.choice === "auto" ? SOCKJS_FALLBACK : [this.choice];
      return new this.sockjsCtor(`${this.host}/sockjs`, null, { transports });
    }
    return new WebSocket(`${this.host.replace(/^http/, "ws")}/ws`, ["v12.stomp", "v11.stomp", "v10.stomp"]);
  }

  private onConnect(): void {
    this.connectedThisAttempt = true;
    const socket = this.client.webSocket as { transport?: string } | undefined;
    this.setStatus({ state: "connected", failures: 0, transport: socket?.transport ?? "websocket", lastTickAt: this.status.lastTickAt });
    this.tokens?.connected();
    this.stompSubs.clear();
    this.viewerSubs.clear();
    for (const symbol of this.listeners.keys()) this.stompSubscribe(symbol);
    for (const symbol of this.viewerListeners.keys()) this.viewersSubscribe(symbol);
  }

  private onClose(): void {
    this.tokens?.disconnected();
    if (this.stopped) return;
    const failures = this.connectedThisAttempt ? 0 : this.status.failures + 1;
    // A WebSocket that never opened (proxy, firewall, missing constructor): SockJS from now on.
    if (!this.connectedThisAttempt && this.choice === "auto" && !this.useSockJS) this.useSockJS = true;
    const delay = reconnectDelay(failures);
    const retryAt = Date.now() + delay;
    this.setStatus({ state: failures >= FAILED_AFTER ? "failed" : "reconnecting", failures, retryAt, lastTickAt: this.status.lastTickAt });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      void this.client.deactivate().then(() => {
        if (!this.stopped) this.client.activate();
      });
    }, delay);
    if (failures === 3) void this.checkOrigin();
  }

  /** A fresh token for the open connection; a refused one ends it, and the reconnect carries the new token. */
  private handOver(token: string): void {
    if (this.client.connected) this.client.publish({ destination: TOKEN_DESTINATION, body: token });
  }

  private stompSubscribe(symbol: string): void {
    const headers: Record<string, string> = {};
    const since = this.positions.get(symbol);
    if (since) headers["x-since"] = `${since.epoch}:${since.seq}`;
    if (this.throttleMs !== undefined) headers["x-throttle-ms"] = String(this.throttleMs);
    const sub = this.client.subscribe(
      topicFor(symbol),
      (message: IMessage) => {
        const tick = JSON.parse(message.body) as Tick;
        const epoch = message.headers["x-epoch"];
        if (epoch) this.positions.set(symbol, { epoch, seq: tick.seq });
        this.status = { ...this.status, lastTickAt: Date.now() };
        const arrival: Arrival =
          message.headers["x-gap"] === "true"
            ? { kind: "gap", missed: message.headers["x-gap-count"] === undefined ? undefined : Number(message.headers["x-gap-count"]) }
            : message.headers["x-replay"] === "true"
              ? { kind: "replayed" }
              : { kind: "live" };
        for (const l of this.listeners.get(symbol) ?? []) l(tick, arrival);
      },
      headers,
    );
    this.stompSubs.set(symbol, sub);
  }

  private viewersSubscribe(symbol: string): void {
    const sub = this.client.subscribe(`/topic/viewers.${symbol}`, (message: IMessage) => {
      const { viewers } = JSON.parse(message.body) as { viewers: number };
      for (const l of this.viewerListeners.get(symbol) ?? []) l(viewers);
    });
    this.viewerSubs.set(symbol, sub);
  }

  /** Whether this page's origin may connect at all: a refused origin should say so, not spin. */
  private async checkOrigin(): Promise<void> {
    try {
      const res = await fetch(`${this.host}/api/origin`, { credentials: "omit" });
      const { allowed } = (await res.json()) as { allowed: boolean };
      if (allowed) return;
      this.stopped = true;
      clearTimeout(this.retryTimer);
      await this.client.deactivate();
      this.setStatus({ state: "not-enabled", failures: 0 });
    } catch {
      // Unreachable host: the reconnect loop reports it.
    }
  }

  private setStatus(status: LinkStatus): void {
    this.status = status;
    for (const l of this.statusListeners) l(status);
  }
}
