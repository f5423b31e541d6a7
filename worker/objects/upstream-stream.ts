import { DurableObject } from "cloudflare:workers";
import { type Config, readConfig } from "../config";
import type { Env } from "../env";
import { treeShape } from "../fanout/tree";
import { Coalescer, type WindowQuote } from "../feeds/stream/coalescer";
import type { StreamCodec, StreamEvent } from "../feeds/stream/codec";
import { Link, type LinkState, type StreamFault } from "../feeds/stream/link";
import { createStreamCodec } from "../feeds/stream/providers";
import { RateWindow } from "../feeds/stream/rate-window";
import { SimExchange } from "../feeds/stream/sim-stream";
import { SubscriptionSet } from "../feeds/stream/subscriptions";
import { log } from "../log";
import { marketState } from "../market/hours";
import type { Quote } from "../market/tick";
import type { MetricsSnapshot } from "../metrics/registry";
import { StreamMetrics } from "../metrics/stream-metrics";
import type { Ingested } from "./round";
import { RoundSender } from "./round";
import { schedulerShard, shardNumber, sourceStub } from "./stubs";

/** A symbol stays subscribed upstream this long after its last viewer left (a reload costs nothing). */
const LINGER_MS = 1_000;
/** How long opening (and authenticating) may take. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long bad credentials or a connection limit keep the stream down (the cron sweep retries sooner). */
const FAILED_RETRY_MS = 300_000;
/** A feed delayed by its provider (Alpaca delayed_sip, Polygon's delayed host) is 15 minutes late. */
const PROVIDER_DELAY_MS = 900_000;

/** The upstream stream as /healthz shows it: one typed state, counts that add up across shards. */
export interface StreamStatus {
  provider: string;
  state: LinkState["state"];
  /** Why it is not live (or was not, last): a fault kind and the provider's one-line reason. */
  fault?: StreamFault;
  /** Symbols subscribed upstream, and of them the ones with viewers (the rest linger). */
  subscribed: number;
  streamed: number;
  /** Wanted symbols the stream cannot carry (limits, refusals): polled. */
  polled: number;
  reconnects: number;
  /** Since the last upstream message (live only). */
  lastMessageAgeMs?: number;
  malformed: number;
  gaps: number;
  delayed: boolean;
}

/**
 * One upstream WebSocket per scheduler shard (`stream:{shard}`): it streams the trades of the
 * shard's active symbols from the provider. Its parts are pure: the provider's codec, the
 * subscription set (follows the active symbols: subscribe on the first viewer, unsubscribe
 * LINGER_MS after the last), the link (typed states, backoff with jitter, silence watchdog)
 * and the coalescer (one tick per symbol per STREAM_BATCH_MS). Each window's ticks enter the
 * symbols' sources through `ingest`, as a feed round's do, and go out as one delivery per hub.
 * While it is down (or for symbols it cannot carry) the scheduler polls within the budget;
 * after a reconnect each symbol gets one budgeted REST quote and its first tick says it
 * follows a gap. An outbound socket keeps the object in memory, so it closes once no symbol
 * is wanted. The scheduler tells it its active set (and the cron sweep repeats that).
 */
export class UpstreamStream extends DurableObject<Env> {
  private readonly config: Config;
  private readonly link: Link;
  private readonly subs: SubscriptionSet;
  private readonly coalescer = new Coalescer();
  private readonly rounds: RoundSender;
  /** What this stream counts (METRICS=on), from 0 with the instance. */
  private readonly counts: StreamMetrics | undefined;
  private codec: StreamCodec;
  private socket: WebSocket | undefined;
  /** Bumped per connection: events of a replaced socket are ignored. */
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** One window's ingest in flight at a time: windows stay in order per symbol. */
  private flushing = false;
  /** When the last window went out. */
  private flushedAt = 0;
  /** The last fault logged (one log line per distinct fault, one when it clears). */
  private fault: StreamFault | undefined;
  /** Set when the stream was lost: the next live connection catches every symbol up. */
  private outage = false;
  /** Whether this instance was told the active set (memory only: gone when it is evicted). */
  private told = false;
  private malformed = 0;
  private gaps = 0;
  /** What we may send the provider (Binance: 5 messages a second); subscription changes wait for room. */
  private sendBudget: RateWindow;
  /** Subscription messages waiting for room in the provider's message rate, in order; a batch's symbols count as streamed once its last message is sent. */
  private outbox: Array<{ text: string; subscribed?: string[] }> = [];
  /** Symbols whose subscribe message still waits in the outbox (polled meanwhile). */
  private readonly pending = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.codec = this.newCodec();
    this.link = new Link({
      baseBackoffMs: 1_000,
      maxBackoffMs: 30_000,
      silenceMs: this.config.feed.streamSilenceMs,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      failedRetryMs: FAILED_RETRY_MS,
      maxConnectionMs: this.codec.limits.maxConnectionMs,
      onReconnect: () => this.counts?.reconnected(),
    });
    this.subs = new SubscriptionSet(this.symbolLimit(), LINGER_MS);
    this.sendBudget = this.newSendBudget();
    this.rounds = new RoundSender(env, () => `round:${this.ctx.id.name ?? "stream"}`, this.config.fanoutDegree);
    this.counts = this.config.metrics
      ? new StreamMetrics(Date.now(), this.codec.provider, {
          state: () => this.link.state.state,
          symbols: () => this.subs.size,
        })
      : undefined;
  }

  /** This stream's figures for GET /metrics (undefined when METRICS=false). */
  metrics(): MetricsSnapshot | undefined {
    return this.counts?.snapshot();
  }

  /** The shard's active symbols (the whole set, each time). `rearm`: the cron sweep, retry a failed stream now. */
  follow(symbols: string[], rearm = false): void {
    const now = Date.now();
    this.told = true;
    const carried = symbols.filter((s) => this.codec.providerSymbol(s) !== undefined);
    this.subs.want(carried, now);
    if (rearm) this.link.rearm(now);
    if (carried.length > 0 && this.link.state.state === "idle") void this.openSocket();
    this.step();
  }

  /**
   * Symbols the stream serves just now (the scheduler polls the others); null when this
   * instance was never told the active set (it was evicted or restarted): the scheduler tells it.
   */
  streamed(): string[] | null {
    if (!this.told) return null;
    return this.servedNow();
  }

  private servedNow(): string[] {
    return this.link.state.state === "live" ? this.subs.streamed().filter((s) => !this.pending.has(s)) : [];
  }

  status(): StreamStatus {
    const s = this.link.state;
    const fault = "fault" in s ? s.fault : this.fault;
    const streamed = this.servedNow().length;
    return {
      provider: this.codec.provider,
      state: s.state,
      ...(fault ? { fault } : {}),
      subscribed: this.subs.size,
      streamed,
      polled: this.subs.wantedCount() - streamed,
      reconnects: this.link.reconnects,
      ...(s.state === "live" ? { lastMessageAgeMs: Date.now() - s.lastMessageAt } : {}),
      malformed: this.malformed,
      gaps: this.gaps,
      delayed: this.codec.delayed,
    };
  }

  // ---------------------------------------------------------------- connection

  private newCodec(): StreamCodec {
    const { feed } = this.config;
    const codec = createStreamCodec(this.config.feedProvider, {
      url: feed.streamUrl,
      key: feed.key,
      secret: feed.secret,
      alpacaDataFeed: feed.alpacaDataFeed,
    });
    if (!codec) throw new Error(`FEED_PROVIDER=${this.config.feedProvider} has no stream`);
    return codec;
  }

  private async openSocket(): Promise<void> {
    this.closeSocket();
    const generation = ++this.generation;
    const now = Date.now();
    this.link.connecting(now);
    this.subs.reset();
    // A fresh codec per connection: per-connection state (Coinbase's sequence) starts over.
    this.codec = this.newCodec();
    this.sendBudget = this.newSendBudget();
    this.outbox = [];
    this.pending.clear();
    this.step();
    const socket = await this.dial(generation);
    if (!socket) return;
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      if (generation === this.generation)
        this.onMessage(
          typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer),
        );
    });
    socket.addEventListener("close", (event) => {
      if (generation === this.generation)
        this.lose({ kind: "closed", reason: `closed ${event.code}${event.reason ? `: ${event.reason}` : ""}` });
    });
    socket.addEventListener("error", () => {
      if (generation === this.generation) this.lose({ kind: "closed", reason: "socket error" });
    });
    this.link.opened(Date.now(), this.codec.readyOnOpen);
    const hello = this.codec.hello();
    for (const m of hello) socket.send(m);
    this.sendBudget.note(hello.length, Date.now());
    if (this.link.state.state === "live") this.onLive();
    this.step();
  }

  /** Opens the provider's WebSocket (or the simulator's in-process exchange); undefined when it failed (already handled). */
  private async dial(generation: number): Promise<WebSocket | undefined> {
    if (this.codec.url() === "sim:") {
      const latest = (symbol: string) =>
        sourceStub(this.env, symbol)
          .latestKnown()
          .then((t) => t?.price)
          .catch(() => undefined);
      return new SimExchange(this.config.simSeed, latest, this.config.feed.streamBatchMs) as unknown as WebSocket;
    }
    try {
      const response = await fetch(this.codec.url().replace(/^ws/, "http"), { headers: { Upgrade: "websocket" } });
      if (generation !== this.generation) return undefined;
      if (!response.webSocket) {
        const reason = `HTTP ${response.status} on upgrade`;
        void response.body?.cancel();
        if (response.status === 401 || response.status === 403)
          this.onFault({ kind: "fault", fault: "auth", reason, fatal: true });
        else if (response.status === 429)
          this.onFault({ kind: "fault", fault: "connection-limit", reason, fatal: true });
        else this.lose({ kind: "connect-failed", reason });
        return undefined;
      }
      response.webSocket.accept();
      return response.webSocket;
    } catch (err) {
      if (generation === this.generation) this.lose({ kind: "connect-failed", reason: String(err).slice(0, 200) });
      return undefined;
    }
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.generation++;
    if (!socket) return;
    try {
      socket.close(1000, "done");
    } catch {
      // already closing
    }
  }

  /** The connection ended or failed: back off and retry; the scheduler polls meanwhile. */
  private lose(fault: StreamFault): void {
    if (this.link.state.state === "live") this.outage = true;
    this.closeSocket();
    this.noteFault(fault);
    this.link.lost(fault, Date.now());
    this.step();
  }

  private onLive(): void {
    if (this.fault) log("stream_recovered", { provider: this.codec.provider, after: this.fault.kind });
    this.fault = undefined;
    this.subs.reset();
    this.step();
    if (this.outage) void this.catchUp([...this.subs.current]);
    this.outage = false;
  }

  /**
   * After an outage: one budgeted REST quote per symbol brings its price current, and the
   * next tick of every symbol says it follows a gap (whether or not the budget allowed the quote).
   */
  private async catchUp(symbols: string[]): Promise<void> {
    if (symbols.length === 0) return;
    for (const s of symbols) this.coalescer.markGap(s);
    const shard = shardNumber(this.ctx.id.name);
    try {
      const results = await schedulerShard(this.env, shard).catchUp(symbols);
      for (const r of results) if ("quote" in r) this.coalescer.catchUp(r.quote);
    } catch (err) {
      log("stream_catch_up_failed", { provider: this.codec.provider, error: String(err) });
    }
    this.scheduleFlush();
  }

  // ---------------------------------------------------------------- messages

  private onMessage(text: string): void {
    const now = Date.now();
    this.link.heard(now);
    this.counts?.received();
    for (const event of this.codec.decode(text)) this.onEvent(event, now);
    this.scheduleFlush();
  }

  private onEvent(event: StreamEvent, now: number): void {
    switch (event.kind) {
      case "trade":
        this.coalescer.trade(
          event.symbol,
          event.price,
          event.size,
          event.ts === undefined ? undefined : Math.min(event.ts, now),
        );
        return;
      case "quote":
        this.coalescer.quote(event.symbol, event.bid, event.ask);
        return;
      case "ready":
        this.link.ready(now);
        if (this.link.state.state === "live") this.onLive();
        return;
      case "reply":
        this.socket?.send(event.text);
        return;
      case "gap":
        this.gaps++;
        void this.catchUp([...this.subs.current]);
        return;
      case "fault":
        this.onFault(event);
        return;
      case "malformed":
        this.malformed++;
        return;
      default:
        return;
    }
  }

  private onFault(event: Extract<StreamEvent, { kind: "fault" }>): void {
    const fault: StreamFault = { kind: event.fault, reason: event.reason };
    if (!event.fatal) {
      this.noteFault(fault);
      if (event.symbols) this.subs.refuse(event.symbols);
      return;
    }
    // Bad credentials or too many connections: retrying soon will not help; poll meanwhile.
    if (this.link.state.state === "live") this.outage = true;
    this.closeSocket();
    this.noteFault(fault);
    this.link.failed(fault, Date.now());
    this.step();
  }

  /** One log line per distinct fault (then `stream_recovered`), not one per retry. */
  private noteFault(fault: StreamFault): void {
    if (this.fault?.kind !== fault.kind)
      log("stream_fault", { provider: this.codec.provider, fault: fault.kind, reason: fault.reason });
    this.fault = fault;
  }

  // ---------------------------------------------------------------- windows

  /**
   * Windows start at most every STREAM_BATCH_MS, counted from the previous window's start (not
   * its end: the ingest time is not added to every tick's wait); after a quiet spell the first
   * trade goes out at once and the ones after it wait for the next window.
   */
  private scheduleFlush(): void {
    if (this.flushTimer || this.flushing || !this.coalescer.pending) return;
    const wait = Math.max(0, this.flushedAt + this.config.feed.streamBatchMs - Date.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, wait);
  }

  /** One window: each symbol's tick enters its source (as a feed round's does), then one delivery per hub. */
  private async flush(): Promise<void> {
    const window = this.coalescer.drain();
    if (window.length === 0) return;
    this.flushedAt = Date.now();
    this.flushing = true;
    this.counts?.ticks(window.length);
    try {
      const ingested = await Promise.all(window.map((w) => this.handOver(w)));
      treeShape(this.rounds.send(ingested));
    } finally {
      this.flushing = false;
      this.scheduleFlush();
    }
  }

  private async handOver(w: WindowQuote): Promise<Ingested> {
    const quote: Quote = {
      symbol: w.symbol,
      price: w.price,
      source: this.codec.provider,
      ...(w.ts !== undefined ? { ts: w.ts } : {}),
      ...(w.volume !== undefined ? { volume: w.volume } : {}),
      ...(w.high !== undefined ? { high: w.high, low: w.low } : {}),
      ...(w.bid !== undefined ? { bid: w.bid } : {}),
      ...(w.ask !== undefined ? { ask: w.ask } : {}),
      ...(w.gap ? { gap: true as const } : {}),
      ...(this.codec.delayed ? { delayed: true as const, delayMs: PROVIDER_DELAY_MS } : {}),
    };
    try {
      return await sourceStub(this.env, w.symbol).ingest({ symbol: w.symbol, quote });
    } catch (err) {
      log("ingest_failed", { symbol: w.symbol, error: String(err) });
      return { active: true };
    }
  }

  // ---------------------------------------------------------------- timing

  /** Applies the subscription plan and the link's next step, then sleeps until either is due. */
  private step(): void {
    const now = Date.now();
    if (this.link.state.state === "live" && this.socket) {
      const plan = this.subs.plan(now);
      // Queued: past the provider's message rate they wait (a provider that counts them disconnects).
      this.outbox.push(...this.codec.unsubscribe(plan.unsubscribe).map((text) => ({ text })));
      const subscribe = this.codec.subscribe(plan.subscribe);
      for (const [i, text] of subscribe.entries()) {
        this.outbox.push(i === subscribe.length - 1 ? { text, subscribed: plan.subscribe } : { text });
      }
      for (const s of plan.subscribe) this.pending.add(s);
      if (!this.drain(now)) return;
      for (const s of plan.unsubscribe) this.coalescer.forget(s);
      if (plan.overLimit.length > 0 && this.fault?.kind !== "symbol-limit") {
        this.noteFault({
          kind: "symbol-limit",
          reason: `${plan.overLimit.length} symbols over the connection's limit of ${this.symbolLimit()}: polled`,
        });
      }
    }
    // Nothing wanted and nothing lingering: close; an idle object costs nothing.
    if (this.subs.wantedCount() === 0 && this.subs.size === 0 && this.link.state.state !== "idle") {
      this.closeSocket();
      this.link.idle();
    }
    const action = this.link.check(now, this.marketOpen(now));
    if (action !== "none" && this.subs.wantedCount() > 0) {
      if (action === "reconnect") {
        const s = this.link.state;
        const fault: StreamFault =
          s.state === "live"
            ? { kind: "silent", reason: `no message for ${now - s.lastMessageAt} ms` }
            : { kind: "connect-failed", reason: "no answer in time" };
        this.noteFault(fault);
        this.outage = true;
      }
      void this.openSocket();
      return;
    }
    this.sleep(now);
  }

  private sleep(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const paced = this.outbox.length > 0 ? (this.sendBudget.nextAt(now) ?? now) : Infinity;
    const next = Math.min(this.link.nextCheckAt() ?? Infinity, this.subs.nextDueAt() ?? Infinity, paced);
    if (!Number.isFinite(next)) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.step();
      },
      Math.max(10, next - now),
    );
  }

  /** The watchdog applies while any streamed symbol's market is open (crypto: always). */
  private marketOpen(now: number): boolean {
    for (const s of this.subs.current) if (marketState(s, now) === "REGULAR") return true;
    return false;
  }

  /** Sends queued messages while the rate allows; false when the socket failed (already handled). */
  private drain(now: number): boolean {
    const socket = this.socket;
    if (!socket) return true;
    try {
      while (this.outbox.length > 0 && this.sendBudget.room(now) > 0) {
        const { text, subscribed } = this.outbox.shift()!;
        socket.send(text);
        this.sendBudget.note(1, now);
        for (const s of subscribed ?? []) this.pending.delete(s);
      }
      return true;
    } catch (err) {
      this.lose({ kind: "closed", reason: `send failed: ${String(err).slice(0, 100)}` });
      return false;
    }
  }

  private newSendBudget(): RateWindow {
    // A tenth of a second to spare: the provider counts arrivals, which jitter.
    return new RateWindow(this.codec.limits.messagesPerSecond, 1_100);
  }

  /** FEED_STREAM_SYMBOLS (a paid plan's limit) or the provider's free plan's. */
  private symbolLimit(): number {
    return this.config.feed.streamSymbols ?? this.codec.limits.symbolsPerConnection;
  }
}
