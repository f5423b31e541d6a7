import { DurableObject } from "cloudflare:workers";
import { grantFor } from "../auth/credentials";
import { Throttled } from "../auth/failure-throttle";
import { TokenError } from "../auth/subscriber-token";
import { HubBroker } from "../broker/hub-broker";
import type { Authenticate } from "../broker/session-state";
import { newSessionState, type SessionState } from "../broker/session-state";
import { StompSession } from "../broker/stomp-session";
import type { StreamFrame } from "../broker/stream-frame";
import { type Config, readConfig } from "../config";
import { Connection, type ConnectionCarrier, type ConnectionKind } from "../connections/connection";
import { noteHeard } from "../connections/liveness";
import { Connections } from "../connections/registry";
import { WriteBatcher } from "../connections/write-batcher";
import type { Env } from "../env";
import { log } from "../log";
import { type AnalyticsWriter, writerFor } from "../metrics/analytics";
import { HubMetrics, tokenFailureReason } from "../metrics/hub-metrics";
import type { MetricsSnapshot } from "../metrics/registry";
import { hubStreamFigures } from "../metrics/status";
import { StompError } from "../protocol/stomp/errors";
import { clientAddress } from "../transports/client-address";
import { acceptSocket, completeClose, isSockJSSocket, socketChannel } from "../transports/sockets";
import type { Channel } from "../transports/sockjs/channel";
import { forwardedRoute, refusal } from "../transports/sockjs/forwarding";
import { SessionServer } from "../transports/sockjs/session-server";
import { credentialThrottle } from "./credential-guard";
import { LivenessAlarm } from "./hub/liveness-alarm";
import { symbolSources } from "./hub/sources";
import { ownName } from "./own-name";

const STOMP_SUBPROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"];

/**
 * A connection hub, named `hub:{region}:{shard}`: holds client connections of every
 * transport (hibernatable raw STOMP and SockJS sockets, SockJS HTTP sessions) in one
 * registry, each with its STOMP session, and fans each delivered tick out to the
 * subscriptions it holds through its broker. Socket sessions live in their attachments, so
 * an evicted hub rebuilds on wake. Its alarm is the liveness sweep (`LivenessAlarm`).
 */
export class ConnectionHub extends DurableObject<Env> {
  private readonly config: Config;
  /** `hub:{region}:{shard}`: from the id, or from storage when the runtime woke us without it (an alarm). */
  private name = "";
  private readonly broker: HubBroker;
  private readonly batcher: WriteBatcher;
  /** Sockets (rebuilt from their attachments on wake) and SockJS HTTP sessions (memory only). */
  private readonly connections: Connections<WebSocket | Channel>;
  private readonly httpSessions: SessionServer;
  /** Failed credentials per client address, counted with every other check in the service. */
  private readonly failures = credentialThrottle(this.env);
  private readonly liveness: LivenessAlarm;
  private warnedNoAddress = false;
  /** What this hub counts (METRICS=on); starts at 0 with the instance, as a restarted process's counters do. */
  private readonly counts: HubMetrics | undefined;
  /** Writes the counts to the Analytics Engine dataset (when bound) at most every METRICS_WRITE_MS, while the hub is active. */
  private readonly analytics: AnalyticsWriter | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    void ctx.blockConcurrencyWhile(async () => {
      this.name = await ownName(ctx, "hub:{region}:{shard}");
      log("hub_started", { hub: this.name, sockets: this.connections.size });
    });
    this.batcher = new WriteBatcher(this.config.hubFlushMs);
    this.counts = this.config.metrics ? new HubMetrics(Date.now(), this.holdings()) : undefined;
    this.analytics =
      this.counts && env.METRICS_DATASET
        ? writerFor(env.METRICS_DATASET, "hub", () => this.name, this.config.metricsWriteMs, log)
        : undefined;
    this.connections = new Connections({
      maxConnections: this.config.hubMaxConnections,
      maxPerAddress: this.config.maxConnectionsPerAddress,
    });
    this.broker = new HubBroker(
      symbolSources(env, () => this.name),
      { later: (fn, ms) => setTimeout(fn, ms) },
      { debounceMs: this.config.interestDebounceMs, maxReplay: this.config.maxReplay, meter: this.counts },
    );
    this.httpSessions = new SessionServer(
      this.config.sockjs,
      (channel, request) => this.openHttpSession(channel, request),
      true,
    );
    const periods = { heartbeatMs: this.config.heartbeatMs, sockjsHeartbeatMs: this.config.sockjs.heartbeatMs };
    this.liveness = new LivenessAlarm(ctx, periods, this.connections, (connection) => {
      log("heartbeat_timeout", { hub: this.name, session: connection.session?.state.id });
      this.counts?.heartbeatTimeout();
    });
    // Client heart-beats (a lone EOL) are answered by the runtime without waking us;
    // the echo doubles as the server's heart-beat.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("\n", "\n"));
    for (const ws of ctx.getWebSockets()) this.restore(ws);
    void ctx.blockConcurrencyWhile(async () => {
      await this.liveness.load();
      this.liveness.arm();
    });
  }

  // ---------------------------------------------------------------- connections

  override async fetch(request: Request): Promise<Response> {
    this.writeFigures();
    const route = forwardedRoute(request);
    if (!route) return new Response("not a hub request\n", { status: 400 });
    const address = clientAddress(request);
    if (route.kind === "session" && route.transport !== "websocket") {
      const id = route.sessionId;
      // A session refused here while full lives on a later shard: send its requests on.
      if (this.connections.refused(id, Date.now())) return refusal("full", 0);
      const opens = route.transport !== "xhr_send" && route.transport !== "jsonp_send";
      if (opens && !this.httpSessions.has(id)) {
        const refused = this.admit(address);
        if (refused === "full") this.connections.refuse(id, Date.now());
        if (refused) return refusal(refused, this.config.maxConnectionsPerAddress);
      }
      return this.httpSessions.handle(request, id, route.transport);
    }
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade\n", { status: 426 });
    }
    const refused = this.admit(address);
    if (refused) return refusal(refused, this.config.maxConnectionsPerAddress);
    const sockjs = route.kind === "session";
    const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
    const protocol = sockjs ? undefined : STOMP_SUBPROTOCOLS.find((p) => offered.includes(p));
    const { socket, response } = acceptSocket(this.ctx, sockjs, protocol ? { "Sec-WebSocket-Protocol": protocol } : {});
    const state: SessionState = { ...newSessionState(crypto.randomUUID(), address || undefined), seenAt: Date.now() };
    socket.serializeAttachment(state);
    this.openSocket(socket, state);
    this.liveness.arm();
    return response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const connection = this.connections.get(ws) ?? this.restore(ws);
    const state = connection?.session?.state;
    if (state && noteHeard(state, Date.now())) connection!.save(state);
    await connection?.receive(message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.drop(ws);
    completeClose(ws, code);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.drop(ws);
  }

  // ---------------------------------------------------------------- from sources

  /** Frames of one stream (`ticker.AAPL`, `viewers.AAPL`) or a feed round's many. */
  deliver(frames: StreamFrame[]): Promise<void> {
    this.writeFigures();
    return this.broker.deliver(frames);
  }

  // ---------------------------------------------------------------- liveness

  /** The liveness sweep (see LivenessAlarm). */
  override async alarm(): Promise<void> {
    this.writeFigures();
    this.liveness.fired();
  }

  // ---------------------------------------------------------------- registry

  /**
   * Why a new connection from `address` is turned away, if it is. With no address known
   * (no proxy sets CF-Connecting-IP) MAX_CONNECTIONS_PER_ADDRESS cannot apply: the hub says so once.
   */
  private admit(address: string): "full" | "per-address" | undefined {
    if (address === "" && !this.warnedNoAddress) {
      log("client_address_unknown", { hub: this.name, limit: "MAX_CONNECTIONS_PER_ADDRESS off: no CF-Connecting-IP" });
      this.warnedNoAddress = true;
    }
    const refused = this.connections.admit(address);
    if (refused) this.counts?.refused(refused);
    return refused;
  }

  private openSocket(ws: WebSocket, state: SessionState, restored = false): Connection {
    const kind: ConnectionKind = isSockJSSocket(this.ctx, ws) ? "sockjs-socket" : "stomp-socket";
    const transport = kind === "sockjs-socket" ? "sockjs-websocket" : "websocket";
    return this.open(ws, kind, transport, restored, socketChannel(ws, kind === "sockjs-socket"), state, (s) => {
      try {
        ws.serializeAttachment(s);
      } catch {
        throw new StompError("session-too-large", "The connection's subscriptions no longer fit its session state.");
      }
    });
  }

  /** Re-creates a socket's connection, session and subscriptions from its attachment after a wake. */
  private restore(ws: WebSocket): Connection | undefined {
    if (ws.readyState !== WebSocket.OPEN) return undefined;
    const state = ws.deserializeAttachment() as SessionState | null;
    if (!state) return undefined;
    const connection = this.openSocket(ws, state, true);
    this.broker.restore(connection.session!);
    return connection;
  }

  /** A SockJS HTTP-transport session carries a STOMP session like any socket (memory only: lost with the hub). */
  private openHttpSession(channel: Channel, request: Request) {
    const state = newSessionState(crypto.randomUUID(), clientAddress(request) || undefined);
    const route = forwardedRoute(request);
    const transport = `sockjs-${route?.kind === "session" ? route.transport : "http"}`;
    const connection = this.open(channel, "sockjs-http", transport, false, channel, state, () => {});
    return { message: (text: string) => void connection.receive(text), closed: () => this.drop(channel) };
  }

  /**
   * One connection, whatever its carrier: its STOMP session, in the registry. `persist`
   * keeps the session's state across hibernation where the transport can; CONNECT may then
   * have negotiated heart-beats the liveness alarm must watch, or brought a token that expires.
   */
  private open(
    handle: WebSocket | Channel,
    kind: ConnectionKind,
    transport: string,
    restored: boolean,
    channel: Channel,
    state: SessionState,
    persist: (s: SessionState) => void,
  ): Connection {
    const carrier: ConnectionCarrier = {
      write: (frames) => channel.sendAll(frames),
      close: (code, reason) => channel.close(code, reason),
      save: (s) => {
        persist(s);
        this.liveness.arm(s.grant?.expiresAt);
      },
    };
    // A socket restored after a wake was opened before: it is held, not opened again.
    const meter = this.counts && (restored ? this.counts.meter(transport) : this.counts.open(transport));
    const connection = new Connection(
      kind,
      carrier,
      this.batcher,
      kind === "sockjs-http" ? undefined : () => this.drop(handle),
      this.config,
      meter,
    );
    connection.session = new StompSession(state, connection, this.broker, this.config, this.authenticate);
    this.connections.add(handle, connection, state.address);
    return connection;
  }

  private drop(handle: WebSocket | Channel): void {
    const connection = this.connections.remove(handle);
    if (connection?.meter) this.counts?.closedOne(connection.meter.transport);
    const session = connection?.session;
    if (session) this.broker.drop(session);
  }

  /** What a CONNECT's (or a refresh's) credential allows, throttled per client address. */
  private readonly authenticate: Authenticate = async (credential, address) => {
    try {
      return await this.failures.attempt(address, credential, Date.now(), () =>
        grantFor(this.env, this.config.auth.keys, credential, Date.now()),
      );
    } catch (err) {
      this.counts?.tokenFailed(
        err instanceof Throttled ? "throttled" : err instanceof TokenError ? tokenFailureReason(err.message) : "other",
      );
      throw err;
    }
  };

  // ---------------------------------------------------------------- metrics

  /** This hub's figures (GET /metrics, /status), or undefined with METRICS=off. */
  async metrics(): Promise<(MetricsSnapshot & { streams: ReturnType<typeof hubStreamFigures> }) | undefined> {
    if (!this.counts) return undefined;
    return { ...this.counts.snapshot(), streams: hubStreamFigures(this.broker.heldStreams()) };
  }

  /** A point to the dataset, if one is due: one clock read and comparison otherwise. */
  private writeFigures(): void {
    const writer = this.analytics;
    if (!writer) return;
    const now = Date.now();
    if (writer.due(now)) writer.write(now, () => this.counts!.snapshot());
  }

  private holdings() {
    return {
      connections: () =>
        [...this.connections.values()].map((c) => ({
          transport: c.meter?.transport ?? c.kind,
          connected: c.session !== undefined && !c.session.closed && c.session.state.version !== undefined,
        })),
      streams: () => this.broker.heldStreams(),
    };
  }
}
