import type { Connection } from "../../connections/connection";
import { isSilent, nextSweepAt } from "../../connections/liveness";
import type { Connections } from "../../connections/registry";
import { HEARTBEAT_FRAME } from "../../protocol/sockjs/frames";
import type { Channel } from "../../transports/sockjs/channel";

export interface LivenessPeriods {
  /** The client heart-beat period the server asks for (0: none). */
  heartbeatMs: number;
  /** How often SockJS sockets get an `h` frame. */
  sockjsHeartbeatMs: number;
}

/**
 * A hub's liveness sweep, on its alarm (not a timer, which would keep the hub awake): closes
 * sockets whose negotiated client heart-beats stopped (a dead tab may never send a close:
 * workerd#1187), sends SockJS sockets their `h` frame, and ends sessions whose token expired.
 * Re-arms while any socket needs it or a token will expire; a hub with neither sleeps without one.
 */
export class LivenessAlarm {
  /** When the stored alarm is set for (read once at start; this instance is its only writer). */
  private alarmAt: number | undefined;
  private lastSockJSHeartbeat = Date.now();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly periods: LivenessPeriods,
    private readonly connections: Connections<WebSocket | Channel>,
    /** A socket's heart-beats stopped: it is being closed. */
    private readonly onTimeout: (connection: Connection) => void,
  ) {}

  /** The alarm fired: one sweep over every connection, then the next alarm. */
  fired(now = Date.now()): void {
    this.alarmAt = undefined;
    let nextExpiry = Number.POSITIVE_INFINITY;
    const sockjsDue = now - this.lastSockJSHeartbeat >= this.periods.sockjsHeartbeatMs - 500;
    if (sockjsDue) this.lastSockJSHeartbeat = now;
    for (const [handle, connection] of this.connections.entries()) {
      const session = connection.session;
      if (!session || session.expire(now) || session.closed) continue;
      nextExpiry = Math.min(nextExpiry, session.state.grant?.expiresAt ?? nextExpiry);
      if (connection.kind === "sockjs-http") continue;
      const ws = handle as WebSocket;
      if (sockjsDue && connection.kind === "sockjs-socket") trySend(ws, HEARTBEAT_FRAME);
      if (isSilent(session.state, this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0, now)) {
        this.onTimeout(connection);
        connection.close(4000, "heart-beat timeout");
      }
    }
    this.connections.sweep(now);
    this.arm(nextExpiry);
  }

  /** Reads the stored alarm: call once, before anything can arm (the hub's constructor blocks on it). */
  async load(): Promise<void> {
    this.alarmAt = (await this.ctx.storage.getAlarm()) ?? undefined;
  }

  /**
   * Arms the alarm for the next sweep while a socket needs one (heart-beats negotiated, or
   * SockJS `h` frames), or for `expiresAt` (a token's end) if that is sooner. An alarm
   * already set as early stays. The write is issued at once, not after a read, so the
   * runtime's output gate holds whatever the caller sends next (CONNECTED) until it is stored:
   * a hub that dies just after a client connected still wakes to sweep.
   */
  arm(expiresAt = Number.POSITIVE_INFINITY): void {
    const at = Math.min(expiresAt, nextSweepAt(this.connections.values(), this.periods, Date.now()));
    if (at === Number.POSITIVE_INFINITY || (this.alarmAt !== undefined && this.alarmAt <= at)) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }
}

function trySend(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // Closing; its close event cleans up.
  }
}
