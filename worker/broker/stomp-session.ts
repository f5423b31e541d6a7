import { Throttled } from "../auth/failure-throttle";
import { type Grant, grantsSymbol, seesRealtime } from "../auth/grant";
import { TokenError } from "../auth/subscriber-token";
import { TokenBucket } from "../connections/token-bucket";
import type { Quote } from "../market/tick";
import { FrameDecoder } from "../protocol/stomp/decoder";
import { encodeFrame } from "../protocol/stomp/encoder";
import { StompError } from "../protocol/stomp/errors";
import { type Frame, header, type StompVersion } from "../protocol/stomp/frame";
import { credentialOf, missingHeader, parseDestination, required } from "./frame-headers";
import { checkCarried, errorFrame, negotiate, readPublished, readSubscription } from "./session-frames";
import {
  type Authenticate,
  type SessionLimits,
  type SessionState,
  type SessionTransport,
  type StreamPosition,
  type Subscription,
  TOKEN_DESTINATION,
} from "./session-state";
import { STREAMS, symbolFromDestination } from "./streams";

export type SessionStatus = "awaiting-connect" | "connected" | "closed";

/** What the session needs from the broker that hosts it. */
export interface SessionBroker {
  /**
   * Registers `sub` and sends its first messages before any live one: the snapshot, or
   * with `since` every tick after that position (or the snapshot marked as a gap).
   */
  subscribe(session: StompSession, sub: Subscription, since?: StreamPosition): Promise<void>;
  unsubscribe(session: StompSession, sub: Subscription): Promise<void>;
  publish(quote: Quote): Promise<void>;
}

/**
 * One client's STOMP session: decodes frames, enforces the protocol and limits,
 * and calls the broker. Frames are handled strictly in arrival order. Any
 * violation ends the session with an ERROR frame and a close; nothing else is touched.
 */
export class StompSession {
  private readonly decoder: FrameDecoder;
  private queue: Promise<void> = Promise.resolve();
  /** Where the session is: waiting for CONNECT, connected, or over (after DISCONNECT, an ERROR, or the peer's close). */
  private status: SessionStatus;
  /** Frames are what cost work (a subscribe, a replay), not transport messages: they are counted too. */
  private readonly frames: TokenBucket;
  /** Ticks this connection may still be replayed; a resume is charged before its ticks are read. */
  readonly replay: TokenBucket;

  constructor(
    readonly state: SessionState,
    readonly transport: SessionTransport,
    private readonly broker: SessionBroker,
    private readonly limits: SessionLimits,
    private readonly authenticate: Authenticate,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });
    // A session restored from hibernation was connected before.
    this.status = state.version ? "connected" : "awaiting-connect";
    if (state.version) this.decoder.version = state.version;
    const now = Date.now();
    this.frames = new TokenBucket(limits.inbound.framesPerSecond, limits.inbound.frameBurst, now);
    this.replay = new TokenBucket(limits.replayBudget / 60, limits.replayBudget, now);
  }

  get version(): StompVersion {
    return this.state.version ?? "1.2";
  }

  get closed(): boolean {
    return this.status === "closed";
  }

  /** Feeds transport data in; resolves once every frame in it has been handled. */
  receive(data: string | ArrayBuffer): Promise<void> {
    this.queue = this.queue.then(() => this.process(data));
    return this.queue;
  }

  /** Ends the session with an ERROR frame for `error` and a close (a limit outside the protocol, such as input rate). */
  refuse(error: StompError): void {
    this.fail(error, undefined);
  }

  /** Ends the session if its token expired by `now` without a fresh one; true if it did. */
  expire(now: number): boolean {
    const expiresAt = this.state.grant?.expiresAt;
    if (this.closed || expiresAt === undefined || expiresAt > now) return false;
    this.refuse(
      new StompError("token-expired", `Send a fresh token to ${TOKEN_DESTINATION} before the current one expires.`),
    );
    return true;
  }

  /** Marks the session gone (transport closed by the peer); later input is ignored. */
  end(): void {
    this.status = "closed";
  }

  private async process(data: string | ArrayBuffer): Promise<void> {
    if (this.closed) return;
    let frame: Frame | undefined;
    try {
      for (frame of this.decoder.push(data)) {
        const now = Date.now();
        if (this.expire(now)) return;
        if (!this.frames.take(1, now)) {
          const { framesPerSecond, frameBurst } = this.limits.inbound;
          throw new StompError(
            "too-many-frames",
            `More than ${framesPerSecond} STOMP frames a second (burst ${frameBurst}).`,
          );
        }
        await this.handle(frame);
        if (this.closed) return;
      }
    } catch (err) {
      this.fail(err, frame && header(frame, "receipt"));
    }
  }

  private async handle(frame: Frame): Promise<void> {
    if (frame.command === "CONNECT" || frame.command === "STOMP") {
      if (this.status === "connected")
        throw new StompError("already-connected", "CONNECT may only be sent once per connection.");
      return this.connect(frame);
    }
    if (this.status !== "connected") throw new StompError("not-connected", `Send CONNECT before ${frame.command}.`);
    switch (frame.command) {
      case "SUBSCRIBE":
        await this.subscribe(frame);
        break;
      case "UNSUBSCRIBE":
        await this.unsubscribe(frame);
        break;
      case "SEND":
        await this.send(frame);
        break;
      case "ACK":
      case "NACK":
        // Market data is fire-and-forget: acknowledgements are accepted and need no action.
        break;
      case "BEGIN":
      case "COMMIT":
      case "ABORT":
        throw new StompError("transactions-unsupported", "Market data topics are not transactional.");
      case "DISCONNECT":
        this.receipt(frame);
        this.status = "closed";
        this.transport.close(1000, "disconnected");
        return;
    }
    this.receipt(frame);
  }

  private async connect(frame: Frame): Promise<void> {
    const { version, heartbeat, connected } = negotiate(frame, this.limits.heartbeatMs, this.state.id);
    const credential = credentialOf(frame);
    if (credential !== undefined) {
      this.state.grant = await this.verify(credential);
    } else if (this.limits.auth.mode === "token") {
      throw new StompError("auth-required", "CONNECT with a token as passcode or in an Authorization: Bearer header.");
    }
    this.state.version = version;
    this.state.heartbeat = heartbeat;
    this.status = "connected";
    this.decoder.version = version;
    this.transport.save(this.state);
    this.transport.send(encodeFrame("CONNECTED", connected, "", version));
  }

  private async subscribe(frame: Frame): Promise<void> {
    const subscribed = readSubscription(frame, this.state, this.limits);
    this.state.subs.push(...subscribed.map((s) => s.sub));
    this.transport.save(this.state);
    // A batch's symbols attach side by side; the first refusal ends the session.
    await Promise.all(subscribed.map(({ sub, since }) => this.broker.subscribe(this, sub, since)));
  }

  private async unsubscribe(frame: Frame): Promise<void> {
    const id = header(frame, "id") ?? (this.version === "1.0" ? header(frame, "destination") : undefined);
    if (id === undefined) throw missingHeader("UNSUBSCRIBE", "id");
    const gone = this.state.subs.filter((s) => s.id === id);
    // Unsubscribing twice is harmless: the end state is what the client asked for.
    if (gone.length === 0) return;
    this.state.subs = this.state.subs.filter((s) => s.id !== id);
    this.transport.save(this.state);
    await Promise.all(gone.map((sub) => this.broker.unsubscribe(this, sub)));
  }

  private async send(frame: Frame): Promise<void> {
    const destination = required(frame, "destination");
    if (destination === TOKEN_DESTINATION) return this.refresh(new TextDecoder().decode(frame.body).trim());
    const symbol = parseDestination(symbolFromDestination, destination);
    checkCarried(this.limits, symbol);
    if (!this.state.grant?.publisher) {
      throw new StompError("not-publisher", "CONNECT with the publish token, or a token with pub:true, to SEND.");
    }
    await this.broker.publish(readPublished(frame, symbol));
  }

  /**
   * A fresh token on the same connection. It must be for the same subject and grant what
   * the subscriptions already held rely on (their streams were chosen by the old one); a
   * token that changes that is refused, and the client reconnects with it.
   */
  private async refresh(credential: string): Promise<void> {
    if (!credential)
      throw new StompError("missing-token", `A SEND to ${TOKEN_DESTINATION} carries the fresh token as its body.`);
    const old = this.state.grant;
    const grant = await this.verify(credential);
    if (old?.subject !== grant.subject)
      throw new StompError("token-subject-changed", "A fresh token must be for the same sub: reconnect with it.");
    const delay = this.limits.auth.publicDelayMs;
    const changed = this.state.subs.find((s) => {
      const spec = STREAMS[s.stream];
      return !grantsSymbol(grant, s.symbol) || (spec.licensed && seesRealtime(grant, delay) === spec.delayed);
    });
    if (changed) {
      throw new StompError(
        "token-changes-entitlements",
        `The fresh token changes what ${changed.symbol} may be seen as: reconnect with it.`,
      );
    }
    this.state.grant = grant;
    this.transport.save(this.state);
  }

  /** The grant of a credential, or the ERROR that says why there is none. */
  private async verify(credential: string): Promise<Grant> {
    try {
      return await this.authenticate(credential, this.state.address ?? "");
    } catch (err) {
      if (err instanceof Throttled)
        throw new StompError("too-many-failures", "Too many bad credentials from this address: try again in a minute.");
      if (err instanceof TokenError) throw new StompError("invalid-token", `${err.message}.`, { message: err.message });
      throw err;
    }
  }

  private receipt(frame: Frame): void {
    const receipt = header(frame, "receipt");
    if (receipt !== undefined) this.transport.send(encodeFrame("RECEIPT", [["receipt-id", receipt]], "", this.version));
  }

  /** ERROR frame, then close: the spec's only answer to a protocol violation. */
  private fail(err: unknown, receipt: string | undefined): void {
    if (this.closed) return;
    const error =
      err instanceof StompError ? err : new StompError("internal", "The server could not process the frame.");
    if (!(err instanceof StompError)) console.error("stomp session error", err);
    this.status = "closed";
    this.transport.failed?.(error.code);
    this.transport.send(errorFrame(error, receipt, this.state.version ?? "1.0"));
    this.transport.close(error.closeCode, error.message.slice(0, 120));
  }
}
