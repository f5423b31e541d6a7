import { Client, type IMessage, type StompSubscription } from "@stomp/stompjs";
import { TOKEN_DESTINATION } from "../../../worker/broker/session-state";
import { topicFor } from "../../../worker/broker/streams";
import type { SymbolCheck } from "../../../worker/market/symbol-policy";
import { reconnectDelay } from "./backoff";
import { type AttemptOutcome, type Carrier, nextCarrier, type TransportChoice } from "./carrier";
import { LivenessWatch } from "./liveness";
import { loadSockJS } from "./sockjs-loader";
import type { Tick } from "./tick";
import { TokenKeeper, type TokenSource } from "./token-keeper";

export { TRANSPORTS, type TransportChoice } from "./carrier";

/** The connection, one state at a time. */
export type LinkState =
  /** Nothing asked for yet. */
  | { kind: "idle" }
  | { kind: "connecting"; carrier: Carrier; failures: number }
  /** `transport`: "websocket", or the SockJS transport in use ("xhr-streaming", ...). */
  | { kind: "open"; transport: string }
  /** Down; the next attempt starts at `retryAt` (or at once on `retryNow`, `online`, the tab shown). */
  | { kind: "reconnecting"; failures: number; retryAt: number }
  /** The host refuses this site (its origin is not in ALLOWED_ORIGINS): no retries. */
  | { kind: "stopped"; reason: "not-enabled" };

/** After this many failures in a row the connection reads as failed (it keeps retrying, slowly). */
const FAILED_AFTER = 6;

export function isFailing(state: LinkState): boolean {
  return state.kind === "reconnecting" && state.failures >= FAILED_AFTER;
}

/** How a tick reached us: live, replayed after a reconnect, or the newest after ticks that could not be recovered. */
export type Arrival = { kind: "live" } | { kind: "replayed" } | { kind: "gap"; missed?: number };

type Listener = (tick: Tick, arrival: Arrival) => void;
/** Why the host has no prices of a symbol: it does not know it, or does not carry it (SYMBOLS). */
export interface Refusal {
  status: "unknown" | "not-carried";
  reason: string;
}
type RefusedListener = (refusal: Refusal) => void;

/** A stream position from a MESSAGE's x-epoch and x-seq. */
interface Position {
  epoch: string;
  seq: number;
}

/** Whether a symbol may be subscribed: not yet known, fine, or refused by the host (unknown, not carried). */
type Clearance = { kind: "checking" } | { kind: "cleared" } | { kind: "refused"; refusal: Refusal };

/** Everything asked of one symbol; one STOMP subscription per stream, shared by every listener (views and widgets alike). */
interface Interest {
  ticks: Set<Listener>;
  viewers: Set<(viewers: number) => void>;
  refused: Set<RefusedListener>;
  clearance: Clearance;
  tickSub?: StompSubscription;
  viewerSub?: StompSubscription;
}

const SOCKJS_FALLBACK = ["xhr-streaming", "xhr-polling", "eventsource", "iframe-eventsource", "jsonp-polling"];
/** Client heart-beats; the server echoes each (its heart-beats), so silence past one beat plus the grace means the link is gone. */
const HEARTBEAT_MS = 10_000;
const SILENCE_GRACE_MS = 2_000;
/**
 * How long the HTTP check after a failed WebSocket may take. Short: a host that answers
 * HTTP answers at once, and one that answers only later is more likely coming back from
 * an outage than blocking WebSocket.
 */
const PROBE_TIMEOUT_MS = 3_000;
/** Symbols per `/api/symbols` request (the API's limit). */
const CHECK_BATCH = 50;

/**
 * One STOMP connection to an Edge Ticker host, shared by everything on the page.
 * WebSocket first; in auto mode it falls back to SockJS (loaded from the host) only when
 * a WebSocket fails while the host answers HTTP, and tries WebSocket again on every later
 * reconnect. Reconnects with exponential backoff and jitter, at once when the browser comes
 * back online or the tab is shown, and resubscribes from the last position of each symbol
 * (`x-since`), so ticks missed while away are replayed, or the newest arrives marked as a
 * gap. A link that goes silent (no heart-beat echo) is dropped and reconnected. Symbols are
 * checked (`/api/symbols`) before they are subscribed: one the host does not know is
 * reported to its listeners, never subscribed (that would end the connection with an
 * ERROR). An optional throttle asks for at most one tick per interval per symbol
 * (`x-throttle-ms`). With a token source, each CONNECT carries a fresh token and a new one
 * is handed over on `/app/token` before the current one expires.
 */
export class TickerConnection {
  private readonly client: Client;
  private readonly interests = new Map<string, Interest>();
  private readonly positions = new Map<string, Position>();
  private readonly toCheck = new Set<string>();
  private checkTimer: ReturnType<typeof setTimeout> | undefined;
  private throttleMs: number | undefined;
  private readonly statusListeners = new Set<(s: LinkState) => void>();
  private state: LinkState = { kind: "idle" };
  private newestTickAt: number | undefined;
  private choice: TransportChoice;
  /** The attempt under way, or the last one: what the next one learns from. */
  private attempt: AttemptOutcome | undefined;
  /** The HTTP check after a WebSocket failed to open; the retry waits for it. */
  private probing: Promise<void> | undefined;
  private sockjsCtor: Awaited<ReturnType<typeof loadSockJS>> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly liveness = new LivenessWatch(SILENCE_GRACE_MS, () => this.client.forceDisconnect());
  private readonly tokens: TokenKeeper | undefined;

  constructor(
    private readonly host: string,
    options: { transport?: TransportChoice; checkOrigin?: boolean; throttleMs?: number; token?: TokenSource } = {},
  ) {
    this.choice = options.transport ?? "auto";
    this.throttleMs = options.throttleMs;
    this.tokens = options.token && new TokenKeeper(options.token, (token) => this.handOver(token));
    this.client = new Client({
      reconnectDelay: 0, // reconnects are ours: backoff with jitter, and a transport decision per attempt
      connectionTimeout: 10_000,
      heartbeatIncoming: HEARTBEAT_MS,
      heartbeatOutgoing: HEARTBEAT_MS,
      // A dead link is dropped at once (the socket may linger), so the reconnect starts now.
      discardWebsocketOnCommFailure: true,
      beforeConnect: async () => {
        const hasWebSocket = typeof WebSocket === "function";
        let carrier = nextCarrier(this.choice, this.attempt, hasWebSocket);
        // A failed load (offline) must not end the reconnect loop: this attempt goes out as a
        // plain WebSocket if there is one, and the next one tries SockJS again.
        if (carrier === "sockjs") this.sockjsCtor = await loadSockJS(this.host).catch(() => undefined);
        if (carrier === "sockjs" && !this.sockjsCtor && hasWebSocket) carrier = "websocket";
        this.attempt = { carrier, opened: false };
        const failures = this.state.kind === "reconnecting" ? this.state.failures : 0;
        this.setState({ kind: "connecting", carrier, failures });
        // No token (the site's endpoint failed): connect anyway; the public policy applies, or the server says why not.
        const token = await this.token();
        this.client.connectHeaders = token ? { passcode: token } : {};
      },
      webSocketFactory: () => this.createSocket(this.attempt?.carrier ?? "websocket"),
    });
    this.client.onConnect = () => this.onConnect();
    this.client.onWebSocketClose = () => this.onClose();
    this.client.onStompError = (frame) => console.warn("edge-ticker: server error", frame.headers.message);
    // The way back is usually the network or the tab: no reason to sit out the backoff.
    addEventListener("online", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.retryNow();
    });
    if (options.checkOrigin) void this.probe();
  }

  get transport(): TransportChoice {
    return this.choice;
  }

  get current(): LinkState {
    return this.state;
  }

  /** When the newest tick arrived (any symbol), on this page's clock. */
  get lastTickAt(): number | undefined {
    return this.newestTickAt;
  }

  onStatus(listener: (s: LinkState) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.state);
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

  /**
   * Live ticks of `symbol` (the latest one first); `onRefused` hears why, if the host has
   * no such symbol. Returns the unsubscribe function.
   */
  subscribe(symbol: string, listener: Listener, onRefused?: RefusedListener): () => void {
    const interest = this.interest(symbol);
    interest.ticks.add(listener);
    if (onRefused) {
      interest.refused.add(onRefused);
      if (interest.clearance.kind === "refused") onRefused(interest.clearance.refusal);
    }
    this.openStreams(symbol, interest);
    this.start();
    return () => {
      interest.ticks.delete(listener);
      if (onRefused) interest.refused.delete(onRefused);
      if (interest.ticks.size === 0) {
        interest.tickSub?.unsubscribe();
        interest.tickSub = undefined;
      }
      this.forgetIfUnused(symbol, interest);
    };
  }

  /** Live subscription count of `symbol` across the service (at most one update a second). */
  watchViewers(symbol: string, listener: (viewers: number) => void): () => void {
    const interest = this.interest(symbol);
    interest.viewers.add(listener);
    this.openStreams(symbol, interest);
    this.start();
    return () => {
      interest.viewers.delete(listener);
      if (interest.viewers.size === 0) {
        interest.viewerSub?.unsubscribe();
        interest.viewerSub = undefined;
      }
      this.forgetIfUnused(symbol, interest);
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
    for (const [symbol, interest] of this.interests) {
      if (!interest.tickSub) continue;
      interest.tickSub.unsubscribe();
      interest.tickSub = undefined;
      this.openStreams(symbol, interest);
    }
  }

  /** Switches transport (the picker); reconnects at once. */
  setTransport(choice: TransportChoice): void {
    this.choice = choice;
    this.attempt = undefined;
    clearTimeout(this.retryTimer);
    this.liveness.stop();
    // Idle while the old connection closes, so its close is not taken for a failure.
    this.setState({ kind: "idle" });
    void this.client.deactivate().then(() => this.start());
  }

  /** Reconnects now instead of at the end of the backoff (the page's "Retry now"; coming back online; the tab shown). */
  retryNow(): void {
    if (this.state.kind !== "reconnecting") return;
    clearTimeout(this.retryTimer);
    void this.reconnect();
  }

  private start(): void {
    if (this.state.kind !== "idle" || this.interests.size === 0) return;
    this.setState({
      kind: "connecting",
      carrier: nextCarrier(this.choice, this.attempt, typeof WebSocket === "function"),
      failures: 0,
    });
    this.client.activate();
  }

  private async reconnect(): Promise<void> {
    await this.probing;
    await this.client.deactivate();
    if (this.state.kind === "reconnecting") this.client.activate();
  }

  /** The host places the connection on a hub near the viewer; every symbol rides on it. */
  private createSocket(carrier: Carrier): WebSocket {
    const socket =
      carrier === "sockjs" && this.sockjsCtor
        ? new this.sockjsCtor(`${this.host}/sockjs`, null, {
            transports: this.choice === "auto" ? SOCKJS_FALLBACK : [this.choice],
          })
        : new WebSocket(`${this.host.replace(/^http/, "ws")}/ws`, ["v12.stomp", "v11.stomp", "v10.stomp"]);
    // Heart-beats out (a lone EOL) arm the liveness watch; anything in answers it.
    socket.addEventListener("message", () => this.liveness.heard());
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      if (data === "\n") this.liveness.beat();
      send(data);
    };
    return socket;
  }

  private onConnect(): void {
    if (this.attempt) this.attempt.opened = true;
    const socket = this.client.webSocket as { transport?: string } | undefined;
    this.setState({ kind: "open", transport: socket?.transport ?? "websocket" });
    this.tokens?.connected();
    for (const [symbol, interest] of this.interests) {
      interest.tickSub = interest.viewerSub = undefined;
      // HTTP works now: symbols whose check failed (offline at load) are checked again.
      if (interest.clearance.kind === "checking") this.queueCheck(symbol);
      this.openStreams(symbol, interest);
    }
  }

  private onClose(): void {
    this.liveness.stop();
    this.tokens?.disconnected();
    if (this.state.kind === "idle" || this.state.kind === "stopped") return;
    const attempt = this.attempt;
    const previous = this.state.kind === "reconnecting" || this.state.kind === "connecting" ? this.state.failures : 0;
    const failures = attempt?.opened ? 0 : previous + 1;
    const delay = reconnectDelay(failures);
    this.setState({ kind: "reconnecting", failures, retryAt: Date.now() + delay });
    // A WebSocket that never opened: blocked on the way (HTTP works), or the host is down (it does not)?
    if (attempt?.carrier === "websocket" && !attempt.opened) {
      this.probing = this.probe().then((works) => {
        attempt.httpWorks = works;
      });
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.reconnect(), delay);
  }

  /**
   * Whether the host answers HTTP (`/api/origin`, readable by any origin); if it says this
   * page's origin may not connect, the connection stops and says so instead of spinning.
   */
  private async probe(): Promise<boolean> {
    try {
      const res = await fetch(`${this.host}/api/origin`, {
        credentials: "omit",
        cache: "no-store",
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      if (!res.ok) return false;
      const { allowed } = (await res.json()) as { allowed: boolean };
      if (!allowed) await this.stop();
      return true;
    } catch {
      return false; // unreachable: the host is down, or this browser is offline
    }
  }

  private async stop(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.liveness.stop();
    this.setState({ kind: "stopped", reason: "not-enabled" });
    await this.client.deactivate();
  }

  /** A fresh token for the open connection; a refused one ends it, and the reconnect carries the new token. */
  private handOver(token: string): void {
    if (this.client.connected) this.client.publish({ destination: TOKEN_DESTINATION, body: token });
  }

  // ---------------------------------------------------------------- symbols

  private interest(symbol: string): Interest {
    let interest = this.interests.get(symbol);
    if (!interest) {
      interest = { ticks: new Set(), viewers: new Set(), refused: new Set(), clearance: { kind: "checking" } };
      this.interests.set(symbol, interest);
      this.queueCheck(symbol);
    }
    return interest;
  }

  private forgetIfUnused(symbol: string, interest: Interest): void {
    if (interest.ticks.size === 0 && interest.viewers.size === 0 && this.interests.get(symbol) === interest)
      this.interests.delete(symbol);
  }

  /** Subscribes what is wanted and not yet subscribed, once the symbol is cleared and the connection is up. */
  private openStreams(symbol: string, interest: Interest): void {
    if (interest.clearance.kind !== "cleared" || !this.client.connected) return;
    if (interest.ticks.size > 0 && !interest.tickSub) interest.tickSub = this.stompSubscribe(symbol);
    if (interest.viewers.size > 0 && !interest.viewerSub) interest.viewerSub = this.viewersSubscribe(symbol);
  }

  /** Symbols asked for in the same turn go in one request. */
  private queueCheck(symbol: string): void {
    this.toCheck.add(symbol);
    this.checkTimer ??= setTimeout(() => void this.runChecks(), 0);
  }

  private async runChecks(): Promise<void> {
    this.checkTimer = undefined;
    const symbols = [...this.toCheck];
    this.toCheck.clear();
    for (let i = 0; i < symbols.length; i += CHECK_BATCH) {
      const batch = symbols.slice(i, i + CHECK_BATCH);
      const checks = await this.check(batch);
      // Unanswered (offline): checked again when the connection opens.
      if (checks)
        for (const symbol of batch)
          this.settle(
            symbol,
            checks.find((c) => c.symbol === symbol),
          );
    }
  }

  /** The host's checks; none if it could not be reached; empty if it answered otherwise (the subscriptions then have their say). */
  private async check(symbols: string[]): Promise<SymbolCheck[] | undefined> {
    try {
      const res = await fetch(`${this.host}/api/symbols?symbols=${symbols.map(encodeURIComponent).join(",")}`, {
        headers: await this.authHeaders(),
        credentials: "omit",
      });
      if (!res.ok) return [];
      return ((await res.json()) as { symbols: SymbolCheck[] }).symbols;
    } catch {
      return undefined;
    }
  }

  private settle(symbol: string, check: SymbolCheck | undefined): void {
    const interest = this.interests.get(symbol);
    if (interest?.clearance.kind !== "checking") return;
    // Only a definite "no" keeps a symbol out: no price just now may change, and the server still has its say.
    if (check && (check.status === "unknown" || check.status === "not-carried")) {
      const refusal: Refusal = { status: check.status, reason: check.reason };
      interest.clearance = { kind: "refused", refusal };
      for (const l of interest.refused) l(refusal);
      return;
    }
    interest.clearance = { kind: "cleared" };
    this.openStreams(symbol, interest);
  }

  private stompSubscribe(symbol: string): StompSubscription {
    const headers: Record<string, string> = {};
    const since = this.positions.get(symbol);
    if (since) headers["x-since"] = `${since.epoch}:${since.seq}`;
    if (this.throttleMs !== undefined) headers["x-throttle-ms"] = String(this.throttleMs);
    return this.client.subscribe(
      topicFor(symbol),
      (message: IMessage) => {
        const tick = JSON.parse(message.body) as Tick;
        const epoch = message.headers["x-epoch"];
        if (epoch) this.positions.set(symbol, { epoch, seq: tick.seq });
        this.newestTickAt = Date.now();
        const arrival: Arrival =
          message.headers["x-gap"] === "true"
            ? {
                kind: "gap",
                missed:
                  message.headers["x-gap-count"] === undefined ? undefined : Number(message.headers["x-gap-count"]),
              }
            : message.headers["x-replay"] === "true"
              ? { kind: "replayed" }
              : { kind: "live" };
        for (const l of this.interests.get(symbol)?.ticks ?? []) l(tick, arrival);
      },
      headers,
    );
  }

  private viewersSubscribe(symbol: string): StompSubscription {
    return this.client.subscribe(`/topic/viewers.${symbol}`, (message: IMessage) => {
      const { viewers } = JSON.parse(message.body) as { viewers: number };
      for (const l of this.interests.get(symbol)?.viewers ?? []) l(viewers);
    });
  }

  private setState(state: LinkState): void {
    this.state = state;
    for (const l of this.statusListeners) l(state);
  }
}
