import type { StreamFault } from "./codec";

/**
 * The upstream connection's state, one at a time:
 * idle (nothing to stream) → connecting → authenticating → live → (closed, silent, a connect
 * or authentication that took too long) backoff → connecting …; a fault the provider will
 * not get over by itself (bad key, too many connections) → failed, retried after a long wait.
 * `attempt`: connections in a row that failed or did not stay healthy.
 */
export type UpstreamState =
  | { state: "idle" }
  | { state: "connecting"; since: number; attempt: number }
  | { state: "authenticating"; since: number; attempt: number }
  | { state: "live"; since: number; attempt: number; lastMessageAt: number; probedAt?: number; quietUntil?: number }
  | { state: "backoff"; until: number; attempt: number; fault: StreamFault }
  | { state: "failed"; since: number; retryAt: number; fault: StreamFault };

export interface LinkOptions {
  /** First retry after up to this long; doubled per failed attempt up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** A live connection that stayed up this long was healthy: the next failure starts the backoff over. */
  healthyAfterMs: number;
  /** A live connection quiet this long is probed (or, when it cannot be, replaced while its market is open). */
  silenceMs: number;
  /** A probed connection that says nothing for this long is replaced. */
  probeTimeoutMs: number;
  /** How long to wait for an open (and authentication) before counting the attempt as failed. */
  connectTimeoutMs: number;
  /** How long a fatal fault keeps the stream down before it is tried again. */
  failedRetryMs: number;
  /** The provider ends connections after this long: reconnect a little before (optional). */
  maxConnectionMs?: number;
  /** Told each time a connection is live again after having been live before (metrics). */
  onReconnect?: () => void;
}

/**
 * What the owner should do now: open a connection (a wait is over), give the attempt up
 * (it took too long: `lost` it), probe a quiet connection, replace one (silent, or about to
 * be cut by the provider: `lost` it), or nothing.
 */
export type LinkAction =
  | { do: "connect" }
  | { do: "give-up"; fault: StreamFault }
  | { do: "probe" }
  | { do: "replace"; fault: StreamFault }
  | { do: "none" };

/** Whether the live connection can be probed, and whether a silence would be unexpected (a market is open). */
export interface Liveness {
  canProbe: boolean;
  marketOpen: boolean;
}

const NONE: LinkAction = { do: "none" };

/**
 * Reconnection with exponential backoff and full jitter (reset only once a connection stayed
 * healthy), and liveness for a connection that stays open but may have died: protocol pings
 * never reach us, so a quiet one is asked something it must answer; it is replaced only when
 * it does not, never merely for being quiet. `random` is injected (tests pass a fixed one). Pure.
 */
export class Link {
  private current: UpstreamState = { state: "idle" };
  /** Connections that came live again after the first one (for /healthz). */
  reconnects = 0;
  private everLive = false;

  constructor(
    private readonly options: LinkOptions,
    private readonly random: () => number = Math.random,
  ) {}

  get state(): UpstreamState {
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
    const { attempt } = this.current;
    this.current = readyOnOpen ? this.live(now, attempt) : { state: "authenticating", since: now, attempt };
  }

  ready(now: number): void {
    if (this.current.state === "authenticating" || this.current.state === "connecting")
      this.current = this.live(now, this.current.attempt);
  }

  /** A message arrived; true when it answered a probe (the next check moves: re-arm the timer). */
  heard(now: number): boolean {
    if (this.current.state !== "live") return false;
    const answered = this.current.probedAt !== undefined;
    this.current.lastMessageAt = now;
    this.current.probedAt = undefined;
    this.current.quietUntil = undefined;
    return answered;
  }

  /** A probe went out. */
  probed(now: number): void {
    if (this.current.state === "live") this.current.probedAt = now;
  }

  /** The connection ended, failed or was given up: retry after a jittered, growing wait. */
  lost(fault: StreamFault, now: number): void {
    const s = this.current;
    let failures: number;
    switch (s.state) {
      case "idle":
      case "failed":
      case "backoff":
        return;
      case "live":
        failures = now - s.since >= this.options.healthyAfterMs ? 0 : s.attempt;
        break;
      case "connecting":
      case "authenticating":
        failures = s.attempt;
        break;
    }
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

  /** What to do at `now`. */
  check(now: number, liveness: Liveness): LinkAction {
    const s = this.current;
    switch (s.state) {
      case "idle":
        return NONE;
      case "backoff":
        return now >= s.until ? { do: "connect" } : NONE;
      case "failed":
        return now >= s.retryAt ? { do: "connect" } : NONE;
      case "connecting":
      case "authenticating":
        return now - s.since >= this.options.connectTimeoutMs
          ? {
              do: "give-up",
              fault: { kind: "connect-failed", reason: `no answer in ${now - s.since} ms (${s.state})` },
            }
          : NONE;
      case "live":
        return this.checkLive(s, now, liveness);
    }
  }

  /** When `check` next has something to do (never in the past while nothing is due). */
  nextCheckAt(): number | undefined {
    const s = this.current;
    switch (s.state) {
      case "idle":
        return undefined;
      case "backoff":
        return s.until;
      case "failed":
        return s.retryAt;
      case "connecting":
      case "authenticating":
        return s.since + this.options.connectTimeoutMs;
      case "live": {
        const quiet =
          s.probedAt !== undefined
            ? s.probedAt + this.options.probeTimeoutMs
            : Math.max(s.lastMessageAt + this.options.silenceMs, s.quietUntil ?? 0);
        return Math.min(quiet, this.scheduledCut(s) ?? Infinity);
      }
    }
  }

  private checkLive(s: Extract<UpstreamState, { state: "live" }>, now: number, liveness: Liveness): LinkAction {
    const cut = this.scheduledCut(s);
    if (cut !== undefined && now >= cut)
      return { do: "replace", fault: { kind: "closed", reason: "the provider's connection lifetime is nearly over" } };
    if (s.probedAt !== undefined) {
      return now - s.probedAt >= this.options.probeTimeoutMs
        ? { do: "replace", fault: { kind: "silent", reason: `no answer to a probe in ${now - s.probedAt} ms` } }
        : NONE;
    }
    if (now - s.lastMessageAt < this.options.silenceMs || now < (s.quietUntil ?? 0)) return NONE;
    if (liveness.canProbe) return { do: "probe" };
    if (liveness.marketOpen)
      return { do: "replace", fault: { kind: "silent", reason: `no message for ${now - s.lastMessageAt} ms` } };
    // Quiet, nothing to ask, and no market open to expect trades from: look again a silence later.
    s.quietUntil = now + this.options.silenceMs;
    return NONE;
  }

  /** When to replace the connection before the provider cuts it. */
  private scheduledCut(s: Extract<UpstreamState, { state: "live" }>): number | undefined {
    return this.options.maxConnectionMs === undefined ? undefined : s.since + this.options.maxConnectionMs - 60_000;
  }

  private live(now: number, attempt: number): UpstreamState {
    if (this.everLive) {
      this.reconnects++;
      this.options.onReconnect?.();
    }
    this.everLive = true;
    return { state: "live", since: now, attempt, lastMessageAt: now };
  }
}
