import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config } from "../config";
import type { Env } from "../env";
import { createFeed } from "../feeds";
import type { FeedProvider, QuoteResult } from "../feeds/provider";
import { nextTick, parseQuoteInput, QuoteError, type Quote, type Tick } from "../market/tick";
import { newSessionState, type SessionState, type Subscription } from "../broker/session-state";
import { StompSession, type SessionBroker, type SessionTransport } from "../broker/stomp-session";
import { SubscriptionIndex } from "../broker/subscription-index";
import { buildTickFrame, type TickFrame } from "../broker/tick-frame";
import { StompError } from "../protocol/stomp/errors";
import { isPublishToken } from "../http/publish-auth";
import { log } from "../log";
import { decodeSocketMessage, HEARTBEAT_FRAME } from "../protocol/sockjs/frames";
import { forwardedRoute } from "../transports/sockjs/forwarding";
import type { Channel, SessionHandler } from "../transports/sockjs/channel";
import { SessionServer } from "../transports/sockjs/session-server";
import { acceptSocket, completeClose, isSockJSSocket, messageText, SOCKJS_TAG, socketChannel } from "../transports/sockjs/websocket";
import { schedulerStub, tickerStub } from "./stubs";

const STOMP_SUBPROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"];
const HEARTBEAT_GRACE_MS = 2_000;
const SWEEP_EVERY_MS = 5_000;

/**
 * One object per symbol, with two roles:
 *  - host: holds STOMP sessions (whose subscriptions may name any symbol) and fans each
 *    tick out to them. Sessions arrive as hibernatable WebSockets (raw `/ws`, or
 *    SockJS-framed) or as SockJS HTTP-transport sessions, all with the same StompSession;
 *  - source: owns its symbol's tick sequence, numbers the quotes the feed scheduler
 *    hands it (or publishers send) while anyone listens, and delivers each tick once to
 *    every object holding subscribers of it (itself included), which fan out locally.
 *    That is the two-level tree.
 */
export class TickerObject extends DurableObject<Env> implements SessionBroker {
  private readonly config: Config;
  private readonly feed: FeedProvider;
  private readonly symbol: string;

  // Host role (memory only; rebuilt from attachments after hibernation).
  private readonly sessions = new Map<WebSocket, StompSession>();
  /** SockJS HTTP-transport sessions (memory only: after a restart clients get 404 and reconnect). */
  private readonly httpSessions: SessionServer;
  private readonly lastSeen = new Map<WebSocket, number>();
  private readonly index = new SubscriptionIndex();
  /** Newest frame seen per symbol: the snapshot source and the guard that keeps seq increasing. */
  private readonly latest = new Map<string, TickFrame>();
  /** Subscribes in flight per remote symbol; they count as interest so the source keeps us. */
  private readonly pending = new Map<string, number>();
  private readonly wokeAt = Date.now();

  // Source role (persisted).
  private last: Tick | undefined;
  /** Holder object name → attach generation (a re-attach during a delivery must not be undone). */
  private readonly holders = new Map<string, number>();
  private publishedAt = 0;
  /** When the feed last delivered a good quote (memory only: a woken object counts from now). */
  private freshAt = this.wokeAt;
  private registered = false;
  private lastSweep = 0;
  private lastSockJSHeartbeat = this.wokeAt;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.feed = createFeed(this.config);
    const name = ctx.id.name;
    if (!name) throw new Error("TickerObject must be addressed by name (idFromName(symbol))");
    this.symbol = name;
    this.httpSessions = new SessionServer(this.config.sockjs, (channel) => this.openHttpSession(channel));
    // Client heart-beats (a lone EOL) are answered by the runtime without waking us;
    // the echo doubles as the server's heart-beat.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("\n", "\n"));
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.get<unknown>(["tick", "holders", "publishedAt"]);
      this.last = stored.get("tick") as Tick | undefined;
      for (const h of (stored.get("holders") as string[] | undefined) ?? []) this.holders.set(h, 0);
      this.publishedAt = (stored.get("publishedAt") as number | undefined) ?? 0;
      if (this.last) this.latest.set(this.symbol, buildTickFrame(this.last));
    });
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY, tick TEXT NOT NULL)");
    for (const ws of ctx.getWebSockets()) this.restore(ws);
    log("object_started", { symbol: this.symbol, sockets: this.sessions.size, holders: this.holders.size });
  }

  // ---------------------------------------------------------------- host role

  override async fetch(request: Request): Promise<Response> {
    const route = forwardedRoute(request);
    if (route?.kind === "session" && route.transport !== "websocket") {
      return this.httpSessions.handle(request, route.sessionId, route.transport);
    }
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade\n", { status: 426 });
    }
    const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
    const protocol = STOMP_SUBPROTOCOLS.find((p) => offered.includes(p));
    const { socket, response } = acceptSocket(
      this.ctx,
      route?.kind === "session",
      protocol ? { "Sec-WebSocket-Protocol": protocol } : {},
    );
    const state = newSessionState(crypto.randomUUID());
    socket.serializeAttachment(state);
    this.attachSession(socket, state);
    return response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.lastSeen.set(ws, Date.now());
    const session = this.sessions.get(ws) ?? this.restore(ws);
    if (!session) return;
    if (!isSockJSSocket(this.ctx, ws)) return session.receive(message);
    const messages = decodeSocketMessage(messageText(message));
    if (!messages) {
      // The spec's answer to broken framing: drop the connection.
      this.dropSession(ws);
      return ws.close(1002, "Broken framing.");
    }
    for (const text of messages) await this.receiveSockJS(session, text);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.dropSession(ws);
    completeClose(ws, code);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.dropSession(ws);
  }

  private attachSession(ws: WebSocket, state: SessionState): StompSession {
    const channel = socketChannel(ws, isSockJSSocket(this.ctx, ws));
    const transport: SessionTransport = {
      send: (text) => channel.send(text),
      close: (code, reason) => {
        this.dropSession(ws);
        channel.close(code, reason);
      },
      save: (s) => {
        try {
          ws.serializeAttachment(s);
        } catch {
          throw new StompError("Session too large", "The connection's subscriptions no longer fit its session state.", 1008);
        }
      },
    };
    const session = new StompSession(state, transport, this, this.config);
    this.sessions.set(ws, session);
    this.lastSeen.set(ws, Date.now());
    return session;
  }

  /** Re-creates a session and its index entries from the attachment after a wake. */
  private restore(ws: WebSocket): StompSession | undefined {
    if (ws.readyState !== WebSocket.OPEN) return undefined;
    const state = ws.deserializeAttachment() as SessionState | null;
    if (!state) return undefined;
    const session = this.attachSession(ws, state);
    for (const sub of state.subs) this.index.add(session, sub);
    return session;
  }

  private dropSession(ws: WebSocket): void {
    const session = this.sessions.get(ws);
    this.sessions.delete(ws);
    this.lastSeen.delete(ws);
    if (session) this.forget(session);
  }

  private forget(session: StompSession): void {
    session.end();
    this.index.removeSession(session);
  }

  /** A SockJS HTTP-transport session carries a STOMP session like any socket. */
  private openHttpSession(channel: Channel): SessionHandler {
    const transport: SessionTransport = {
      send: (text) => channel.send(text),
      close: (code, reason) => channel.close(code, reason),
      // Memory only: the session cannot outlive this object instance anyway.
      save: () => {},
    };
    const session = new StompSession(newSessionState(crypto.randomUUID()), transport, this, this.config);
    return { message: (text) => void this.receiveSockJS(session, text), closed: () => this.forget(session) };
  }

  /**
   * Raw sockets get heart-beats echoed by the runtime's auto-response. SockJS wraps a
   * client's lone EOL in its own framing, so the echo that doubles as the server's
   * heart-beat is sent here.
   */
  private receiveSockJS(session: StompSession, text: string): Promise<void> {
    if (text === "\n" || text === "\r\n") session.transport.send(text);
    return session.receive(text);
  }

  // SessionBroker -------------------------------------------------------------

  async subscribe(session: StompSession, sub: Subscription): Promise<void> {
    let frame: TickFrame;
    try {
      frame = await this.snapshot(sub.symbol);
    } catch (err) {
      throw new StompError(`No price for ${sub.symbol}`, String(err instanceof Error ? err.message : err).slice(0, 300));
    }
    // A live tick may have overtaken the snapshot while we waited: send the newer one.
    if (session.closed) return;
    const newest = this.remember(frame) ? frame : this.latest.get(sub.symbol)!;
    this.index.sendTo(this.index.add(session, sub), newest);
    if (sub.symbol === this.symbol) await this.ensureTicking();
  }

  /** The latest frame of `symbol`: ours, or from its object (which starts delivering to us). */
  private async snapshot(symbol: string): Promise<TickFrame> {
    if (symbol === this.symbol) return this.currentFrame();
    this.pending.set(symbol, (this.pending.get(symbol) ?? 0) + 1);
    try {
      return await tickerStub(this.env, symbol).attach(this.symbol);
    } finally {
      const left = (this.pending.get(symbol) ?? 1) - 1;
      if (left > 0) this.pending.set(symbol, left);
      else this.pending.delete(symbol);
    }
  }

  async unsubscribe(session: StompSession, sub: Subscription): Promise<void> {
    // Sources learn lazily: the next delivery reports no subscribers and they drop us.
    this.index.remove(session, sub.id);
  }

  async publish(symbol: string, body: unknown): Promise<void> {
    let quote: Quote;
    try {
      quote = parseQuoteInput(body, symbol);
    } catch (err) {
      if (err instanceof QuoteError) throw new StompError("Invalid tick", err.message);
      throw err;
    }
    if (symbol === this.symbol) await this.publishQuotes([quote]);
    else await tickerStub(this.env, symbol).publishQuotes([quote]);
  }

  isPublisherPasscode(passcode: string): Promise<boolean> {
    return isPublishToken(this.env, passcode);
  }

  // ---------------------------------------------------------------- source role (RPC)

  /** A holder object registers interest in this symbol; returns the snapshot. */
  async attach(holder: string): Promise<TickFrame> {
    const isNew = !this.holders.has(holder);
    this.holders.set(holder, (this.holders.get(holder) ?? 0) + 1);
    if (isNew) this.saveHolders();
    const frame = await this.currentFrame();
    await this.ensureTicking();
    return frame;
  }

  /** Fans a tick of any symbol out to local subscribers; returns how many still want it. */
  deliver(frame: TickFrame): number {
    if (this.remember(frame)) this.index.fanOut(frame);
    const interest = this.index.count(frame.symbol) + (this.pending.get(frame.symbol) ?? 0);
    if (interest === 0 && frame.symbol !== this.symbol) this.latest.delete(frame.symbol);
    return interest;
  }

  /** Applies published quotes in order: numbered, persisted and broadcast. */
  async publishQuotes(quotes: Quote[]): Promise<Tick[]> {
    const ticks: Tick[] = [];
    this.publishedAt = Date.now();
    void this.ctx.storage.put("publishedAt", this.publishedAt);
    await this.ensureTicking();
    for (const quote of quotes) ticks.push(await this.commit(quote));
    return ticks;
  }

  /** The latest tick, creating the first one from the feed if the symbol never ticked. */
  async latestTick(): Promise<Tick> {
    await this.currentFrame();
    return this.last!;
  }

  /** The last `limit` ticks, oldest first (charts fill from this before the first live tick). */
  async history(limit: number): Promise<Tick[]> {
    await this.currentFrame();
    const rows = this.ctx.storage.sql.exec<{ tick: string }>("SELECT tick FROM history ORDER BY seq DESC LIMIT ?", limit);
    const ticks = rows
      .toArray()
      .map((r) => JSON.parse(r.tick) as Tick)
      .reverse();
    // Ticks from before history was kept: at least the latest one.
    return ticks.length > 0 ? ticks : [this.last!];
  }

  /** Registers the symbol with the feed scheduler while anyone listens. */
  private async ensureTicking(): Promise<void> {
    if (this.registered || !this.active()) return;
    await schedulerStub(this.env).activate(this.symbol);
    this.registered = true;
  }

  /**
   * One feed round for this symbol, from the scheduler: a quote, a fault, or nothing
   * (the request budget skipped it this round). Keeps the last good price and marks it
   * stale once no good quote came for STALE_AFTER_MS, or for two of the symbol's update
   * intervals when the budget spaces them further apart. Returns whether anyone still
   * listens (the scheduler drops the symbol if not) and the latest tick.
   */
  async ingest(result: QuoteResult | undefined, updateIntervalMs = 0): Promise<{ active: boolean; tick?: Tick }> {
    const now = Date.now();
    this.sweepSockets(now);
    if (!this.active()) {
      this.registered = false;
      return { active: false };
    }
    // Published ticks are authoritative: the feed stays quiet for the symbol while they flow.
    if (result && "quote" in result && now - this.publishedAt >= this.config.publishHoldMs) {
      await this.commit(result.quote);
      this.freshAt = now;
    }
    const last = this.last;
    const staleAfter = Math.max(this.config.staleAfterMs, 2 * updateIntervalMs);
    if (last && !last.stale && now - Math.max(this.freshAt, this.publishedAt) > staleAfter) {
      // Never a made-up price: the last good one again, flagged.
      await this.record({ ...last, seq: last.seq + 1, stale: true });
    }
    return { active: true, tick: this.last };
  }

  // ---------------------------------------------------------------- internals

  private active(): boolean {
    return this.index.count(this.symbol) > 0 || [...this.holders.keys()].some((h) => h !== this.symbol);
  }

  private async currentFrame(): Promise<TickFrame> {
    const known = this.latest.get(this.symbol);
    if (known) return known;
    const [result] = await this.feed.quotes([{ symbol: this.symbol }], Date.now());
    if (!result || !("quote" in result)) throw new Error(`no price for ${this.symbol}: ${result?.error ?? "feed returned nothing"}`);
    await this.commit(result.quote);
    return this.latest.get(this.symbol)!;
  }

  /** Numbers, persists and broadcasts one quote of this object's symbol. */
  private commit(quote: Quote): Promise<Tick> {
    return this.record(nextTick(this.last, quote, Date.now()));
  }

  private async record(tick: Tick): Promise<Tick> {
    this.last = tick;
    // Not awaited: the output gate holds every send below until the write is durable,
    // so a seq is never seen by a client and then lost.
    void this.ctx.storage.put("tick", tick);
    // A bounded ring in SQLite: one insert and one trim per tick.
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO history (seq, tick) VALUES (?, ?)", tick.seq, JSON.stringify(tick));
    this.ctx.storage.sql.exec("DELETE FROM history WHERE seq <= ?", tick.seq - this.config.historySize);
    const frame = buildTickFrame(tick);
    this.deliver(frame);
    await this.broadcast(frame);
    return tick;
  }

  private async broadcast(frame: TickFrame): Promise<void> {
    const remote = [...this.holders].filter(([name]) => name !== this.symbol);
    await Promise.all(
      remote.map(async ([name, generation]) => {
        try {
          const interest = await tickerStub(this.env, name).deliver(frame);
          if (interest === 0 && this.holders.get(name) === generation) {
            this.holders.delete(name);
            this.saveHolders();
          }
        } catch (err) {
          log("deliver_failed", { symbol: this.symbol, holder: name, error: String(err) });
        }
      }),
    );
  }

  /** Records `frame` as the newest of its symbol; false if it is not newer than what we have. */
  private remember(frame: TickFrame): boolean {
    const known = this.latest.get(frame.symbol);
    if (known && known.seq >= frame.seq) return false;
    this.latest.set(frame.symbol, frame);
    return true;
  }

  private saveHolders(): void {
    void this.ctx.storage.put("holders", [...this.holders.keys()]);
  }

  /**
   * Closes sockets whose negotiated client heart-beats stopped (a dead tab may never
   * send a close), and sends SockJS sockets their `h` frame. Runs on feed rounds,
   * while the object is awake anyway; a timer of its own would keep it from hibernating.
   */
  private sweepSockets(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    if (now - this.lastSockJSHeartbeat >= this.config.sockjs.heartbeatMs) {
      this.lastSockJSHeartbeat = now;
      for (const ws of this.ctx.getWebSockets(SOCKJS_TAG)) {
        try {
          ws.send(HEARTBEAT_FRAME);
        } catch {
          // Closing; its close event cleans up.
        }
      }
    }
    for (const [ws, session] of this.sessions) {
      const period = session.state.heartbeat[0];
      if (period === 0) continue;
      const echoed = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      const seen = Math.max(echoed, this.lastSeen.get(ws) ?? this.wokeAt);
      if (now - seen > 2 * period + HEARTBEAT_GRACE_MS) {
        log("heartbeat_timeout", { symbol: this.symbol, session: session.state.id });
        session.transport.close(4000, "heart-beat timeout");
      }
    }
  }

}
