import type { StreamCodec, StreamEvent, StreamFault } from "../../feeds/stream/codec";
import { CurrentFault } from "../../feeds/stream/current-fault";
import { Link, type LinkOptions } from "../../feeds/stream/link";
import { OwedCatchUps } from "../../feeds/stream/owed-catch-ups";
import { LINGER_MS, SubscriptionSet, SYMBOL_SILENCE } from "../../feeds/stream/subscriptions";
import { log } from "../../log";
import { marketState } from "../../market/hours";
import { type DialResult, UpstreamConnection } from "./connection";
import type { StreamWindows } from "./windows";

/** What the loop needs from its object: fresh codecs, sockets, and the REST catch-up after an outage. */
export interface LoopPorts {
  newCodec(): StreamCodec;
  dial(codec: StreamCodec): Promise<DialResult>;
  /** After an outage: bring these symbols current (the windows hold them meanwhile). */
  catchUp(symbols: string[]): void;
  /** A message arrived (metrics). */
  received(): void;
}

/**
 * The upstream's loop: it owns the link (states, backoff, liveness), the subscription set and
 * the connection of the moment, made fresh per socket. It keeps the provider's subscriptions
 * following the wanted symbols within the connection's limit and message rate, hands trades
 * and quotes to the windows, refuses what the provider refuses, and after an outage asks for
 * each symbol's catch-up once the next connection serves it again. It sleeps until the next
 * thing is due: a quiet connection costs a probe per silence, nothing more.
 */
export class UpstreamLoop {
  readonly link: Link;
  readonly subs: SubscriptionSet;
  readonly faults = new CurrentFault<StreamFault>();
  malformed = 0;
  gaps = 0;
  private conn: UpstreamConnection | undefined;
  /** Bumped per attempt: a dial answered after its attempt was given up is closed unused. */
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The symbols a lost live stream carried: caught up once the next connection serves them. */
  private readonly owed: OwedCatchUps;

  constructor(
    private readonly provider: string,
    private readonly symbolLimit: number,
    link: LinkOptions,
    private readonly windows: StreamWindows,
    private readonly ports: LoopPorts,
  ) {
    this.link = new Link(link);
    this.subs = new SubscriptionSet(symbolLimit, LINGER_MS, SYMBOL_SILENCE);
    this.owed = new OwedCatchUps((symbols) => ports.catchUp(symbols));
  }

  /** The wanted symbols changed (the union of every shard's). */
  want(symbols: Iterable<string>, now: number): void {
    this.subs.want(symbols, now);
    if (this.subs.wantedCount() > 0 && this.link.state.state === "idle") void this.open();
    this.step();
  }

  /** Wanted symbols the stream serves at `now` (none while it is not live). */
  served(now: number): string[] {
    if (this.link.state.state !== "live") return [];
    return this.subs.served(now, (s) => marketState(s, now) === "REGULAR");
  }

  // ---------------------------------------------------------------- connection

  private async open(): Promise<void> {
    this.drop();
    const attempt = this.attempt;
    this.link.connecting(Date.now());
    this.subs.reset();
    this.step();
    const codec = this.ports.newCodec();
    const dialed = await this.ports.dial(codec);
    if (attempt !== this.attempt) {
      if ("socket" in dialed) dialed.socket.close(1000, "given up");
      return;
    }
    if ("fault" in dialed) {
      this.lose(dialed.fault, dialed.fatal);
      return;
    }
    const conn: UpstreamConnection = new UpstreamConnection(codec, dialed.socket, {
      message: (text) => {
        if (this.conn === conn) this.onMessage(conn, text);
      },
      ended: (fault) => {
        if (this.conn === conn) this.lose(fault);
      },
    });
    this.conn = conn;
    this.link.opened(Date.now(), codec.readyOnOpen);
    conn.send(codec.hello(), Date.now());
    if (this.link.state.state === "live") this.onLive();
    this.step();
  }

  /** Closes the current connection (or gives up a dial in flight); nothing of it is heard again. */
  private drop(): void {
    this.attempt++;
    this.conn?.close();
    this.conn = undefined;
  }

  /**
   * Lost, failed or given up: back off and retry, longer when `fatal` (bad credentials, too many
   * connections: retrying soon will not help); the schedulers poll meanwhile. */
  private lose(fault: StreamFault, fatal = false): void {
    if (this.link.state.state === "live") this.owed.lost(this.subs.current());
    this.drop();
    this.noteFault(fault);
    if (fatal) this.link.failed(fault, Date.now());
    else this.link.lost(fault, Date.now());
    this.step();
  }

  private onLive(): void {
    const recovered = this.faults.clear();
    if (recovered) log("stream_recovered", { provider: this.provider, after: recovered.kind });
    this.owed.live(Date.now(), this.conn?.codec.confirms ?? false);
    this.step();
  }

  // ---------------------------------------------------------------- messages

  private onMessage(conn: UpstreamConnection, text: string): void {
    const now = Date.now();
    // A probe's answer moves the next check from the probe's deadline to a silence from now.
    if (this.link.heard(now)) this.sleep(now);
    this.ports.received();
    for (const event of conn.codec.decode(text)) this.onEvent(conn, event, now);
    this.windows.schedule();
  }

  private onEvent(conn: UpstreamConnection, event: StreamEvent, now: number): void {
    switch (event.kind) {
      case "trade":
        // Its data confirms the symbol (the only confirmation Finnhub and Binance give).
        this.subs.traded(event.symbol, now);
        // Before the trade: a catch-up holds the symbol, and its trades from here count after the snapshot.
        this.owed.served([event.symbol]);
        this.windows.trade(
          event.symbol,
          event.price,
          event.size,
          event.ts === undefined ? undefined : Math.min(event.ts, now),
          event.rule,
        );
        return;
      case "quote":
        this.windows.quote(event.symbol, event.bid, event.ask);
        return;
      case "ready":
        this.link.ready(now);
        if (this.link.state.state === "live") this.onLive();
        return;
      case "subscribed":
        if (conn.codec.confirms) {
          this.subs.confirm(event.symbols, now);
          this.owed.served(event.symbols);
        }
        return;
      case "reply":
        conn.send([event.text], now);
        return;
      case "gap":
        this.gaps++;
        this.ports.catchUp([...this.subs.current()]);
        return;
      case "fault":
        this.onFault(conn, event);
        return;
      case "malformed":
        this.malformed++;
        return;
      case "heartbeat":
        return;
    }
  }

  private onFault(conn: UpstreamConnection, event: Extract<StreamEvent, { kind: "fault" }>): void {
    const fault: StreamFault = { kind: event.fault, reason: event.reason };
    const { scope } = event;
    switch (scope.of) {
      case "connection":
        this.lose(fault, true);
        return;
      case "symbols":
        this.refuse(conn, scope.symbols);
        // The rest of the refused message: forgotten by the codec, subscribed again by the next plan.
        conn.codec.unsubscribe(this.subs.requeue(scope.retry ?? []));
        this.step();
        break;
      case "oldest-pending":
        this.refuse(conn, this.subs.unconfirmed().slice(0, 1));
        break;
      case "pending":
        this.refuse(conn, this.subs.unconfirmed());
        break;
      case "none":
        break;
    }
    this.noteFault(fault);
  }

  /**
   * Refused symbols leave the subscription and are polled; the codec forgets them (nothing to
   * unsubscribe: the provider never subscribed them).
   */
  private refuse(conn: UpstreamConnection, symbols: readonly string[]): void {
    const refused = this.subs.refuse(symbols);
    for (const s of refused) this.windows.forget(s);
    conn.codec.unsubscribe(refused);
  }

  /** One log line per distinct fault (then `stream_recovered`), not one per retry. */
  private noteFault(fault: StreamFault): void {
    if (this.faults.note(fault))
      log("stream_fault", { provider: this.provider, fault: fault.kind, reason: fault.reason });
  }

  // ---------------------------------------------------------------- timing

  /** Applies the subscription plan and the link's next step, then sleeps until either is due. */
  private step(): void {
    const now = Date.now();
    const conn = this.conn;
    this.owed.check(now);
    // Messages waiting for the provider's rate go out as it allows (this step may be the timer for it).
    conn?.drain(now);
    // Planned only once the last plan's messages are out: symbols wanted meanwhile go together in
    // the next batch, not one message (or three, on Coinbase) each past the provider's rate.
    if (this.link.state.state === "live" && conn && conn.nextSendAt(now) === undefined) {
      const plan = this.subs.plan(now);
      // Queued: past the provider's message rate they wait (a provider that counts them disconnects).
      conn.send([...conn.codec.unsubscribe(plan.unsubscribe), ...conn.codec.subscribe(plan.subscribe)], now);
      for (const s of plan.unsubscribe) this.windows.forget(s);
      if (plan.overLimit.length > 0 && this.faults.current?.kind !== "symbol-limit") {
        this.noteFault({
          kind: "symbol-limit",
          reason: `${plan.overLimit.length} symbols over the connection's limit of ${this.symbolLimit}: polled`,
        });
      }
    }
    // Nothing wanted and nothing lingering: close; an idle object costs nothing.
    if (this.subs.wantedCount() === 0 && this.subs.size === 0 && this.link.state.state !== "idle") {
      this.drop();
      this.link.idle();
    }
    const action = this.link.check(now, {
      canProbe: this.conn?.codec.probes ?? false,
      marketOpen: this.marketOpen(now),
    });
    switch (action.do) {
      case "connect":
        void this.open();
        return;
      case "give-up":
      case "replace":
        this.lose(action.fault);
        return;
      case "probe": {
        const probe = this.conn?.codec.probe();
        if (probe !== undefined) this.conn!.send([probe], now);
        this.link.probed(now);
        break;
      }
      case "none":
        break;
    }
    this.sleep(now);
  }

  private sleep(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = Math.min(
      this.link.nextCheckAt() ?? Infinity,
      this.subs.nextDueAt() ?? Infinity,
      this.owed.nextDueAt() ?? Infinity,
      this.conn?.nextSendAt(now) ?? Infinity,
    );
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.step();
      },
      Math.max(10, next - now),
    );
  }

  /** Whether a silence is unexpected: a subscribed symbol's market is open (crypto: always). */
  private marketOpen(now: number): boolean {
    for (const s of this.subs.current()) if (marketState(s, now) === "REGULAR") return true;
    return false;
  }
}
