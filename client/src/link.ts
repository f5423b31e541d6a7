import { Client, type IFrame, type IMessage, type StompHeaders, type StompSubscription } from "@stomp/stompjs";
import { TOKEN_DESTINATION } from "../../worker/broker/session-state";
import { browser } from "./browser";
import { type AttemptOutcome, type Carrier, nextCarrier, type TransportChoice } from "./carrier";
import { type EdgeTickerError, stompError } from "./errors";
import { LivenessWatch } from "./liveness";
import type { SockJSConstructor, SockJSLoader } from "./sockjs";
import { attempting, type ConnectionState, type DropReason, dropped, type StopReason } from "./state";
import type { TokenKeeper } from "./token-keeper";

/** The SockJS transports tried after a blocked WebSocket (all but SockJS's own WebSocket). */
const SOCKJS_FALLBACK = ["xhr-streaming", "xhr-polling", "eventsource", "iframe-eventsource", "jsonp-polling"];
/** Silence past a heart-beat plus this (or more, on a link measured slow) means the link is gone. */
const BASE_GRACE_MS = 2_000;
/** The HTTP check after a failed WebSocket: short, since a host that answers HTTP answers at once. */
const PROBE_TIMEOUT_MS = 3_000;
/** How long `close()` waits for the server to confirm a DISCONNECT. */
const CLOSE_WAIT_MS = 2_000;
/** The WebSocket close code of a policy violation (RFC 6455), as the server closes after refusing a credential. */
const POLICY_CLOSE = 1008;

export interface LinkOptions {
  url: string;
  transport: TransportChoice;
  /** Which SockJS transports to use (default: every HTTP fallback). */
  sockjsTransports?: string[];
  heartbeatMs: number;
  checkOrigin: boolean;
  /** Refreshable tokens; or `fixedToken`; or neither (the public policy). */
  tokens?: TokenKeeper;
  fixedToken?: string;
  /** sockjs-client's constructor, if the caller brings one (else loaded when first needed). */
  sockjs?: SockJSConstructor;
  loadSockJS: SockJSLoader;
  onState(state: ConnectionState): void;
  /** Connected: the streams subscribe again. */
  onOpen(): void;
  /**
   * An ERROR the server sent (the connection ends after it). True when it was one
   * subscription's fault (a refused symbol), which the streams have dropped: the reconnect
   * then counts no failure.
   */
  onError(error: EdgeTickerError, receiptId: string | undefined): boolean;
}

/**
 * One STOMP connection to an Edge Ticker host, kept up. WebSocket first; in auto mode it
 * falls back to SockJS only when a WebSocket fails while the host answers HTTP, and tries
 * WebSocket again on every later reconnect. Reconnects with backoff and jitter, at once
 * when the browser comes back online or the tab is shown. A link that goes silent (no
 * heart-beat echo within the grace) is dropped and reconnected. With a token source each
 * CONNECT carries a fresh token, and a new one is handed over before the current expires.
 */
export class Link {
  readonly #client: Client;
  #state: ConnectionState = { kind: "idle" };
  #choice: TransportChoice;
  #sockjsTransports: string[] | undefined;
  /** The attempt under way, or the last one: what the next one learns from. */
  #attempt: AttemptOutcome | undefined;
  #probing: Promise<void> | undefined;
  #sockjs: SockJSConstructor | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why the connection is ending, when known before its socket closes: silence, or the server's ERROR. */
  #fault: Exclude<DropReason, { kind: "closed" }> | undefined;
  /** The ERROR was one subscription's (a refused symbol): no failure of the connection's. */
  #subscriptionFault = false;
  #opens = 0;
  readonly liveness = new LivenessWatch(BASE_GRACE_MS, () => {
    this.#fault = { kind: "silent" };
    this.#client.forceDisconnect();
  });
  readonly #retryNow = () => this.retry();
  readonly #onVisible = () => {
    if (!browser.document?.hidden) this.retry();
  };

  constructor(private readonly o: LinkOptions) {
    this.#choice = o.transport;
    this.#sockjsTransports = o.sockjsTransports;
    this.#client = new Client({
      reconnectDelay: 0, // reconnects are ours: backoff with jitter, and a transport decision per attempt
      connectionTimeout: 10_000,
      // Silence is noticed by the liveness watch (beat + grace), not by stompjs's own
      // incoming check, which would drop a slow link at two beats whatever its round trip.
      heartbeatIncoming: 0,
      heartbeatOutgoing: o.heartbeatMs,
      // A dead link is dropped at once (the socket may linger), so the reconnect starts now.
      discardWebsocketOnCommFailure: true,
      beforeConnect: () => this.#beforeConnect(),
      webSocketFactory: () => this.#createSocket(this.#attempt?.carrier ?? "websocket"),
    });
    this.#client.onConnect = () => this.#onConnect();
    this.#client.onWebSocketClose = (event: CloseEvent) => this.#onClose(event.code);
    this.#client.onStompError = (frame: IFrame) => {
      const error = stompError(frame.headers, frame.body);
      this.#fault = { kind: "error", error };
      this.#subscriptionFault = o.onError(error, frame.headers["receipt-id"]);
    };
    // The way back is usually the network or the tab: no reason to sit out the backoff.
    browser.addEventListener?.("online", this.#retryNow);
    browser.document?.addEventListener("visibilitychange", this.#onVisible);
  }

  get current(): ConnectionState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  start(): void {
    if (this.#state.kind !== "idle") return;
    if (this.o.checkOrigin) void this.#probe();
    this.#setState(attempting(this.#state, nextCarrier(this.#choice, this.#attempt, hasWebSocket())));
    this.#client.activate();
  }

  subscribe(destination: string, headers: StompHeaders, onMessage: (m: IMessage) => void): StompSubscription {
    return this.#client.subscribe(destination, onMessage, headers);
  }

  /** Switches transport; reconnects at once. */
  setTransport(choice: TransportChoice, sockjsTransports?: string[]): void {
    this.#choice = choice;
    this.#sockjsTransports = sockjsTransports;
    this.#attempt = undefined;
    clearTimeout(this.#retryTimer);
    this.liveness.stop();
    // Idle while the old connection closes, so its close is not taken for a failure.
    this.#setState({ kind: "idle" });
    void this.#client.deactivate().then(() => this.start());
  }

  /** Reconnects now instead of at the end of the backoff. */
  retry(): void {
    if (this.#state.kind !== "reconnecting") return;
    clearTimeout(this.#retryTimer);
    void this.#reconnect();
  }

  async stop(why: StopReason): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.liveness.stop();
    browser.removeEventListener?.("online", this.#retryNow);
    browser.document?.removeEventListener("visibilitychange", this.#onVisible);
    this.#setState({ kind: "stopped", why });
    // A graceful DISCONNECT waits for the server's RECEIPT; a server that never sends it
    // (gone, frozen) must not hold the close: after a while the socket is just dropped.
    const force = setTimeout(() => void this.#client.deactivate({ force: true }), CLOSE_WAIT_MS);
    await this.#client.deactivate();
    clearTimeout(force);
  }

  /** A fresh token for the open connection; a refused one ends it, and the reconnect carries the new token. */
  handOver(token: string): void {
    if (this.#client.connected) this.#client.publish({ destination: TOKEN_DESTINATION, body: token });
  }

  async #beforeConnect(): Promise<void> {
    let carrier = nextCarrier(this.#choice, this.#attempt, hasWebSocket());
    // A failed load (offline) must not end the reconnect loop: this attempt goes out as a
    // plain WebSocket if there is one, and the next one tries SockJS again.
    if (carrier === "sockjs")
      this.#sockjs = this.o.sockjs ?? (await this.o.loadSockJS(this.o.url).catch(() => undefined));
    if (carrier === "sockjs" && !this.#sockjs && hasWebSocket()) carrier = "websocket";
    this.#attempt = { carrier, opened: false };
    this.#fault = undefined;
    this.#subscriptionFault = false;
    this.#setState(attempting(this.#state, carrier));
    // No token (the source failed): connect anyway; the public policy applies, or the server says why not.
    const token = this.o.fixedToken ?? (await this.o.tokens?.current().catch(() => undefined));
    this.#client.connectHeaders = token ? { passcode: token } : {};
  }

  #createSocket(carrier: Carrier): WebSocket {
    const url = this.o.url;
    const socket =
      carrier === "sockjs" && this.#sockjs
        ? new this.#sockjs(`${url}/sockjs`, null, { transports: this.#sockjsTransports ?? SOCKJS_FALLBACK })
        : new WebSocket(`${url.replace(/^http/, "ws")}/ws`, this.#client.stompVersions.protocolVersions());
    // Heart-beats out (a lone EOL) arm the liveness watch; their echo (or anything) answers it.
    socket.addEventListener("message", (event: MessageEvent) => {
      if (event.data === "\n") this.liveness.echo();
      else this.liveness.heard();
    });
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      if (data === "\n") this.liveness.beat();
      send(data);
    };
    return socket;
  }

  #onConnect(): void {
    if (this.#attempt) this.#attempt.opened = true;
    const socket = this.#client.webSocket as { transport?: string } | undefined;
    this.#setState({ kind: "open", transport: socket?.transport ?? "websocket", resumed: this.#opens++ > 0 });
    this.o.tokens?.connected();
    this.o.onOpen();
  }

  #onClose(code: number): void {
    this.liveness.stop();
    this.o.tokens?.disconnected();
    const fault = this.#fault;
    const connectionError = fault?.kind === "error" && !this.#subscriptionFault;
    // A policy refusal (the server's catalogue closes those with 1008: a credential, an
    // entitlement) of the connection itself, and no source of another token: retrying the
    // same cannot help. A subscription's refusal drops that subscription instead.
    if (connectionError && code === POLICY_CLOSE && !this.o.tokens) {
      void this.stop({ kind: "error", error: fault.error });
      return;
    }
    const attempt = this.#attempt;
    const failed = !attempt?.opened || connectionError;
    const why: DropReason = fault ?? { kind: "closed", code };
    this.#setState(dropped(this.#state, why, failed, Date.now()));
    if (this.#state.kind !== "reconnecting") return;
    // A WebSocket that never opened: blocked on the way (HTTP works), or the host is down (it does not)?
    if (attempt?.carrier === "websocket" && !attempt.opened) {
      this.#probing = this.#probe().then((works) => {
        attempt.httpWorks = works;
      });
    }
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#reconnect(), this.#state.retryAt - Date.now());
  }

  async #reconnect(): Promise<void> {
    await this.#probing;
    await this.#client.deactivate();
    if (this.#state.kind === "reconnecting") this.#client.activate();
  }

  /**
   * Whether the host answers HTTP (`/api/origin`, readable by any origin); if it says this
   * page's origin may not connect, the link stops and says so instead of spinning.
   */
  async #probe(): Promise<boolean> {
    try {
      const res = await fetch(`${this.o.url}/api/origin`, {
        credentials: "omit",
        cache: "no-store",
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      } as RequestInit);
      if (!res.ok) return false;
      const { allowed } = (await res.json()) as { allowed: boolean };
      if (!allowed) await this.stop({ kind: "not-enabled" });
      return true;
    } catch {
      return false; // unreachable: the host is down, or this browser is offline
    }
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.o.onState(state);
  }
}

function hasWebSocket(): boolean {
  return typeof WebSocket === "function";
}
