import { DurableObject } from "cloudflare:workers";
import { grantFor } from "../auth/credentials";
import { HubBroker, type Upstream } from "../broker/hub-broker";
import { newSessionState, type SessionState } from "../broker/session-state";
import { StompSession } from "../broker/stomp-session";
import type { StreamFrame } from "../broker/stream-frame";
import { readConfig, type Config } from "../config";
import { Connection, type Carrier, type ConnectionKind } from "../connections/connection";
import { WriteBatcher } from "../connections/write-batcher";
import type { Env } from "../env";
import { reject } from "../http/reply";
import { log } from "../log";
import { HEARTBEAT_FRAME } from "../protocol/sockjs/frames";
import { StompError } from "../protocol/stomp/errors";
import { clientAddress } from "../transports/client-address";
import type { Channel } from "../transports/sockjs/channel";
import { forwardedRoute, HUB_FULL_HEADER } from "../transports/sockjs/forwarding";
import { SessionServer } from "../transports/sockjs/session-server";
import { acceptSocket, completeClose, isSockJSSocket, socketChannel } from "../transports/sockjs/websocket";
import { ownName } from "./own-name";
import { sourceStub } from "./stubs";

const STOMP_SUBPROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"];
const HEARTBEAT_GRACE_MS = 2_000;
/** How long a session id refused while full keeps being sent on to the next hub. */
const REFUSED_TTL_MS = 600_000;

/**
 * A connection hub, named `hub:{region}:{shard}`: holds client connections of every
 * transport (hibernatable raw STOMP and SockJS sockets, SockJS HTTP sessions) with their
 * STOMP sessions, and fans each delivered tick out to the subscriptions it holds. Any
 * connection may subscribe to any symbol; the hub attaches to each symbol's source.
 * Socket sessions live in their attachments, so an evicted hub rebuilds on wake. An
 * alarm (not a timer, which would keep the hub awake) closes sockets whose heart-beats
 * stopped, sends SockJS `h` frames whether or not any symbol ticks, and ends sessions
 * whose token expired without a fresh one.
 */
export class ConnectionHub extends DurableObject<Env> {
  private readonly config: Config;
  /** `hub:{region}:{shard}`: from the id, or from storage when the runtime woke us without it (an alarm). */
  private name = "";
  private readonly broker: HubBroker;
  private readonly batcher: WriteBatcher;
  private readonly sockets = new Map<WebSocket, Connection>();
  private readonly httpSessions: SessionServer;
  /** The STOMP sessions of SockJS HTTP sessions (sockets' are in `sockets`). */
  private readonly httpStomp = new Set<StompSession>();
  private readonly refused = new Map<string, number>();
  /** Open sockets and SockJS HTTP sessions per client address (sockets rebuilt from attachments on wake). */
  private readonly perAddress = new Map<string, number>();
  private lastSockJSHeartbeat = Date.now();
  /** When the alarm is set for, as far as this instance knows. */
  private alarmAt: number | undefined;
  private warnedNoAddress = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    void ctx.blockConcurrencyWhile(async () => {
      this.name = await ownName(ctx, "hub:{region}:{shard}");
      log("hub_started", { hub: this.name, sockets: this.sockets.size });
    });
    this.batcher = new WriteBatcher(this.config.hubFlushMs);
    this.broker = new HubBroker(
      this.upstream(),
      { later: (fn, ms) => setTimeout(fn, ms) },
      { debounceMs: this.config.interestDebounceMs, maxReplay: this.config.maxReplay },
    );
    this.httpSessions = new SessionServer(this.config.sockjs, (channel, request) => this.openHttpSession(channel, request), true);
    // Client heart-beats (a lone EOL) are answered by the runtime without waking us;
    // the echo doubles as the server's heart-beat.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("\n", "\n"));
    for (const ws of ctx.getWebSockets()) this.restore(ws);
    void this.armAlarm();
  }

  // ---------------------------------------------------------------- connections

  override async fetch(request: Request): Promise<Response> {
    const route = forwardedRoute(request);
    if (!route) return new Response("not a hub request\n", { status: 400 });
    if (route.kind === "session" && route.transport !== "websocket") {
      const id = route.sessionId;
      // A session refused here while full lives on a later shard: send its requests on.
      if ((this.refused.get(id) ?? 0) > Date.now()) return hubFull();
      const opens = route.transport !== "xhr_send" && route.transport !== "jsonp_send";
      if (opens && !this.httpSessions.has(id)) {
        if (this.isFull()) {
          this.refuse(id);
          return hubFull();
        }
        if (this.tooManyFrom(clientAddress(request))) return tooMany(this.config.maxConnectionsPerAddress);
      }
      return this.httpSessions.handle(request, id, route.transport);
    }
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade\n", { status: 426 });
    }
    if (this.isFull()) return hubFull();
    const address = clientAddress(request);
    if (this.tooManyFrom(address)) return tooMany(this.config.maxConnectionsPerAddress);
    const sockjs = route.kind === "session";
    const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
    const protocol = sockjs ? undefined : STOMP_SUBPROTOCOLS.find((p) => offered.includes(p));
    const { socket, response } = acceptSocket(this.ctx, sockjs, protocol ? { "Sec-WebSocket-Protocol": protocol } : {});
    const state: SessionState = { ...newSessionState(crypto.randomUUID(), address || undefined), seenAt: Date.now() };
    socket.serializeAttachment(state);
    this.openSocket(socket, state);
    void this.armAlarm();
    return response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const connection = this.sockets.get(ws) ?? this.restore(ws);
    if (connection) this.heardFrom(connection, Date.now());
    await connection?.receive(message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.dropSocket(ws);
    completeClose(ws, code);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.dropSocket(ws);
  }

  // ---------------------------------------------------------------- from sources

  /** Frames of one stream (`ticker.AAPL`, `viewers.AAPL`) or a feed round's many. */
  deliver(frames: StreamFrame[]): Promise<void> {
    return this.broker.deliver(frames);
  }

  // ---------------------------------------------------------------- liveness

  /**
   * Closes sockets whose negotiated client heart-beats stopped (a dead tab may never
   * send a close: workerd#1187), sends SockJS sockets their `h` frame, and ends sessions
   * whose token expired. Re-arms while any socket needs it or a token will expire; a hub
   * with neither sleeps without an alarm.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = undefined;
    const now = Date.now();
    let nextExpiry = Number.POSITIVE_INFINITY;
    for (const session of this.sessions()) {
      if (session.expire(now) || session.closed) continue;
      nextExpiry = Math.min(nextExpiry, session.state.grant?.expiresAt ?? nextExpiry);
    }
    const sockjsDue = now - this.lastSockJSHeartbeat >= this.config.sockjs.heartbeatMs - 500;
    if (sockjsDue) this.lastSockJSHeartbeat = now;
    for (const [ws, connection] of this.sockets) {
      if (sockjsDue && connection.kind === "sockjs-socket") trySend(ws, HEARTBEAT_FRAME);
      const period = connection.session?.state.heartbeat[0] ?? 0;
      if (period === 0) continue;
      // Heart-beats are answered by the runtime (its timestamp); other frames reach us (seenAt, saved across hibernation).
      const echoed = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      const seen = Math.max(echoed, connection.session?.state.seenAt ?? 0);
      if (now - seen > 2 * period + HEARTBEAT_GRACE_MS) {
        log("heartbeat_timeout", { hub: this.name, session: connection.session?.state.id });
        connection.close(4000, "heart-beat timeout");
      }
    }
    for (const [id, until] of this.refused) if (until <= now) this.refused.delete(id);
    await this.armAlarm(nextExpiry);
  }

  /**
   * Arms the alarm for the next liveness sweep while a socket needs one (heart-beats
   * negotiated, or SockJS `h` frames), or for `expiresAt` (a token's end) if that is sooner.
   * An alarm already set as early stays.
   */
  private async armAlarm(expiresAt = Number.POSITIVE_INFINITY): Promise<void> {
    let at = expiresAt;
    if (this.needsSweep()) {
      const heartbeat = this.config.heartbeatMs > 0 ? this.config.heartbeatMs : Number.POSITIVE_INFINITY;
      at = Math.min(at, Date.now() + Math.max(1_000, Math.min(heartbeat, this.config.sockjs.heartbeatMs)));
    }
    if (at === Number.POSITIVE_INFINITY || (this.alarmAt !== undefined && this.alarmAt <= at)) return;
    this.alarmAt = at;
    const current = await this.ctx.storage.getAlarm();
    if (current !== null && current <= at) return;
    await this.ctx.storage.setAlarm(at);
  }

  // ---------------------------------------------------------------- internals

  /**
   * Notes that a socket's client sent something. Saved in its attachment at most every half
   * heart-beat period (one write per period, not per message), so a liveness sweep after a
   * wake never mistakes the wake for a sign of life.
   */
  private heardFrom(connection: Connection, now: number): void {
    const state = connection.session?.state;
    const period = state?.heartbeat[0] ?? 0;
    if (!state || period === 0 || (state.seenAt !== undefined && now - state.seenAt < period / 2)) return;
    state.seenAt = now;
    connection.save(state);
  }

  private *sessions(): Iterable<StompSession> {
    for (const c of this.sockets.values()) if (c.session) yield c.session;
    yield* this.httpStomp;
  }

  private needsSweep(): boolean {
    for (const c of this.sockets.values()) {
      if (c.kind === "sockjs-socket" || (c.session?.state.heartbeat[0] ?? 0) > 0) return true;
    }
    return false;
  }

  /** Sockets and SockJS HTTP sessions held: at HUB_MAX_CONNECTIONS new ones go to the next hub. */
  private isFull(): boolean {
    return this.sockets.size + this.httpSessions.size >= this.config.hubMaxConnections;
  }

  /**
   * Whether one more connection from `address` would pass MAX_CONNECTIONS_PER_ADDRESS, so
   * one address cannot take a hub. With no address known (no proxy sets CF-Connecting-IP)
   * every client would share one count and a self-hosted hub would turn viewers away long
   * before it is full: then only HUB_MAX_CONNECTIONS applies, and the hub says so once.
   */
  private tooManyFrom(address: string): boolean {
    if (address === "") {
      if (!this.warnedNoAddress) log("client_address_unknown", { hub: this.name, limit: "MAX_CONNECTIONS_PER_ADDRESS off: no CF-Connecting-IP" });
      this.warnedNoAddress = true;
      return false;
    }
    return (this.perAddress.get(address) ?? 0) >= this.config.maxConnectionsPerAddress;
  }

  private countAddress(address: string | undefined, delta: 1 | -1): void {
    const key = address ?? "";
    const count = (this.perAddress.get(key) ?? 0) + delta;
    if (count > 0) this.perAddress.set(key, count);
    else this.perAddress.delete(key);
  }

  private refuse(sessionId: string): void {
    if (this.refused.size >= 10_000) this.refused.delete(this.refused.keys().next().value!);
    this.refused.set(sessionId, Date.now() + REFUSED_TTL_MS);
  }

  private openSocket(ws: WebSocket, state: SessionState): Connection {
    const kind: ConnectionKind = isSockJSSocket(this.ctx, ws) ? "sockjs-socket" : "stomp-socket";
    const channel = socketChannel(ws, kind === "sockjs-socket");
    const carrier: Carrier = {
      write: (frames) => channel.sendAll(frames),
      close: (code, reason) => channel.close(code, reason),
      save: (s) => {
        try {
          ws.serializeAttachment(s);
        } catch {
          throw new StompError("session-too-large", "The connection's subscriptions no longer fit its session state.");
        }
        // CONNECT may have negotiated heart-beats that the liveness alarm must watch, or brought a token that expires.
        void this.armAlarm(s.grant?.expiresAt);
      },
    };
    const connection = new Connection(kind, carrier, this.batcher, () => this.dropSocket(ws), this.config);
    this.attachSession(connection, state);
    this.sockets.set(ws, connection);
    this.countAddress(state.address, 1);
    return connection;
  }

  /** Re-creates a socket's connection, session and subscriptions from its attachment after a wake. */
  private restore(ws: WebSocket): Connection | undefined {
    if (ws.readyState !== WebSocket.OPEN) return undefined;
    const state = ws.deserializeAttachment() as SessionState | null;
    if (!state) return undefined;
    const connection = this.openSocket(ws, state);
    this.broker.restore(connection.session!);
    return connection;
  }

  private dropSocket(ws: WebSocket): void {
    const connection = this.sockets.get(ws);
    if (!connection) return;
    this.sockets.delete(ws);
    this.countAddress(connection.session?.state.address, -1);
    if (connection.session) this.broker.drop(connection.session);
  }

  /** A SockJS HTTP-transport session carries a STOMP session like any socket (memory only). */
  private openHttpSession(channel: Channel, request: Request) {
    const carrier: Carrier = {
      write: (frames) => channel.sendAll(frames),
      close: (c, r) => channel.close(c, r),
      // Nothing to persist (the session is lost with the hub anyway), but a token's end needs the alarm.
      save: (s) => void this.armAlarm(s.grant?.expiresAt),
    };
    const connection = new Connection("sockjs-http", carrier, this.batcher, undefined, this.config);
    const session = this.attachSession(connection, newSessionState(crypto.randomUUID(), clientAddress(request) || undefined));
    this.httpStomp.add(session);
    this.countAddress(session.state.address, 1);
    return {
      message: (text: string) => void connection.receive(text),
      closed: () => {
        this.httpStomp.delete(session);
        this.countAddress(session.state.address, -1);
        this.broker.drop(session);
      },
    };
  }

  private attachSession(connection: Connection, state: SessionState): StompSession {
    const session = new StompSession(state, connection, this.broker, this.config);
    connection.session = session;
    return session;
  }

  private upstream(): Upstream {
    const env = this.env;
    return {
      attach: (stream, count) => sourceStub(env, stream.symbol).attach(this.name, count, stream.kind),
      interest: (stream, count) => sourceStub(env, stream.symbol).interest(this.name, count, stream.kind),
      range: (stream, after, before, limit) => sourceStub(env, stream.symbol).range(after, before, limit, stream.kind),
      publish: async (symbol, quote) => void (await sourceStub(env, symbol).publishQuotes([quote])),
      authenticate: (credential) => grantFor(env, this.config.auth.keys, credential, Date.now()),
    };
  }
}

function tooMany(max: number): Response {
  return reject("too-many-connections", `too many connections from this address (at most ${max})`);
}

/** Tells the worker to try the next hub of the region. */
function hubFull(): Response {
  return new Response("hub full\n", { status: 503, headers: { [HUB_FULL_HEADER]: "1" } });
}

function trySend(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // Closing; its close event cleans up.
  }
}
