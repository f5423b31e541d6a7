/** Why the upstream connection is in its state: what /healthz shows (count these, not strings). */
export type StreamFault = {
  kind:
    | "auth"
    | "connection-limit"
    | "symbol-limit"
    | "refused-symbol"
    | "protocol"
    | "closed"
    | "silent"
    | "connect-failed";
  reason: string;
};

/**
 * The upstream connection's state, one at a time:
 * idle (nothing to stream) → connecting → authenticating → live → (closed, silent, failed
 * connect) backoff → connecting …; a fault the provider will not get over by itself (bad
 * key, too many connections) → failed, retried rarely (the cron sweep, or `failedRetryMs`).
 */
export type LinkState =
  | { state: "idle" }
  | { state: "connecting"; since: number; attempt: number }
  | { state: "authenticating"; since: number; attempt: number }
  | { state: "live"; since: number; lastMessageAt: number }
  | { state: "backoff"; until: number; attempt: number; fault: StreamFault }
  | { state: "failed"; since: number; retryAt: number; fault: StreamFault };

export interface LinkOptions {
  /** First retry after this long; doubled per failed attempt up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** A live connection silent this long (while its market is open) is replaced. */
  silenceMs: number;
  /** How long to wait for an open (and authentication) before giving up. */
  connectTimeoutMs: number;
  /** How long a fatal fault keeps the stream down before it is tried again. */
  failedRetryMs: number;
  /** The provider ends connections after this long: reconnect a little before (optional). */
  maxConnectionMs?: number;
  /** Told each time a connection is live again after having been live before (metrics). */
  onReconnect?: () => void;
}

/** What the owner should do with the socket now. */
export type LinkAction = "connect" | "reconnect" | "none";

/**
 * Reconnection with exponential backoff and full jitter, and a watchdog for a connection
 * that stays open but goes silent. `random` is injected (tests pass a fixed one). Pure.
 */
export class Link {
  private current: LinkState = { state: "idle" };
  /** Connections that came live again after the first one (for /healthz). */
  reconnects = 0;
  private everLive = false;

  constructor(
    private readonly options: LinkOptions,
    private readonly random: () => number = Math.random,
  ) {}

  get state(): LinkState {
    return this.current;
  }

  /** Start connecting now (from idle, or when a backoff/failed wait is over). */
  connecting(now: number): void {
    const attempt = this.current.state === "backoff" ? this.current.attempt : 0;
    this.current = { state: "connecting", since: now, attempt };
  }

  /** The socket opened; providers that authenticate come to `live` on `ready`. */
  opened(now: number, readyOnOpen: boolean): void {
    if (this.current.state !== "connecting") return;
    this.current = readyOnOpen
      ? this.live(now)
      : { state: "authenticating", since: now, attempt: this.current.attempt };
  }

  ready(now: number): void {
    if (this.current.state === "authenticating" || this.current.state === "connecting") this.current = this.live(now);
  }

  heard(now: number): void {
    if (this.current.state === "live") this.current.lastMessageAt = now;
  }

  /** The connection ended or could not be made: retry after a jittered, growing wait. */
  lost(fault: StreamFault, now: number): void {
    if (this.current.state === "idle" || this.current.state === "failed") return;
    // Failed attempts in a row: a connection that was live starts over.
    const failures = this.current.state === "live" || this.current.state === "backoff" ? 0 : this.current.attempt;
    const ceiling = Math.min(this.options.maxBackoffMs, this.options.baseBackoffMs * 2 ** failures);
    // Jitter over the upper half: connections cut together do not come back together, and a flapping provider is not hammered.
    const wait = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
    this.current = { state: "backoff", until: now + wait, attempt: failures + 1, fault };
  }

  /** A fault retrying will not fix soon (bad key, connection limit): stay down a while. */
  failed(fault: StreamFault, now: number): void {
    this.current = { state: "failed", since: now, retryAt: now + this.options.failedRetryMs, fault };
  }

  /** Nothing to stream any more: close, and forget the backoff. */
  idle(): void {
    this.current = { state: "idle" };
  }

  /** The cron sweep: a failed stream may try again now. */
  rearm(now: number): void {
    if (this.current.state === "failed") this.current.retryAt = now;
  }

  /** What to do at `now`: connect (a wait is over), reconnect (silent, stuck, or about to be cut), or nothing. */
  check(now: number, marketOpen: boolean): LinkAction {
    const s = this.current;
    switch (s.state) {
      case "backoff":
        return now >= s.until ? "connect" : "none";
      case "failed":
        return now >= s.retryAt ? "connect" : "none";
      case "connecting":
      case "authenticating":
        return now - s.since >= this.options.connectTimeoutMs ? "reconnect" : "none";
      case "live":
        if (marketOpen && now - s.lastMessageAt >= this.options.silenceMs) return "reconnect";
        if (this.options.maxConnectionMs !== undefined && now - s.since >= this.options.maxConnectionMs - 60_000)
          return "reconnect";
        return "none";
      default:
        return "none";
    }
  }

  /** When `check` next has something to do. */
  nextCheckAt(): number | undefined {
    const s = this.current;
    switch (s.state) {
      case "backoff":
        return s.until;
      case "failed":
        return s.retryAt;
      case "connecting":
      case "authenticating":
        return s.since + this.options.connectTimeoutMs;
      case "live":
        return Math.min(
          s.lastMessageAt + this.options.silenceMs,
          this.options.maxConnectionMs !== undefined ? s.since + this.options.maxConnectionMs - 60_000 : Infinity,
        );
      default:
        return undefined;
    }
  }

  private live(now: number): LinkState {
    if (this.everLive) {
      this.reconnects++;
      this.options.onReconnect?.();
    }
    this.everLive = true;
    return { state: "live", since: now, lastMessageAt: now };
  }
}
