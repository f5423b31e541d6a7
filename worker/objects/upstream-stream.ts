import { DurableObject } from "cloudflare:workers";
import { type Config, readConfig } from "../config";
import type { Env } from "../env";
import type { StreamCodec, StreamFault } from "../feeds/stream/codec";
import type { UpstreamState } from "../feeds/stream/link";
import { createStreamCodec } from "../feeds/stream/providers";
import { SimExchange } from "../feeds/stream/sim-stream";
import { ShardWants } from "../feeds/stream/subscriptions";
import { log } from "../log";
import type { Quote } from "../market/tick";
import type { MetricsSnapshot } from "../metrics/registry";
import { StreamMetrics } from "../metrics/stream-metrics";
import { appendTo } from "../multimap";
import { shardOf } from "../routing/placement";
import { schedulerShard, sourceStub } from "./stubs";
import { type DialResult, dialProvider } from "./upstream/connection";
import { UpstreamLoop } from "./upstream/loop";
import { StreamWindows } from "./upstream/windows";

/** How long opening (and authenticating) may take before the attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long bad credentials or a connection limit keep the stream down. */
const FAILED_RETRY_MS = 300_000;
/** A connection up this long was healthy: the backoff starts over after it ends. */
const HEALTHY_AFTER_MS = 30_000;
/** How long a probed connection may take to answer. */
const PROBE_TIMEOUT_MS = 10_000;

/** The upstream stream as /healthz shows it: one typed state and counts. */
export interface StreamStatus {
  provider: string;
  state: UpstreamState["state"];
  /** Why it is not live (or was not, last, or what the provider refused): a fault kind and the provider's reason. */
  fault?: StreamFault;
  /** Symbols subscribed upstream (wanted or lingering), of them the ones served now, and the ones not confirmed yet. */
  subscribed: number;
  streamed: number;
  unconfirmed: number;
  /** Wanted symbols the stream does not serve now (limits, refusals, unconfirmed, silent): polled. */
  polled: number;
  reconnects: number;
  /** Since the last upstream message (live only). */
  lastMessageAgeMs?: number;
  malformed: number;
  gaps: number;
  delayed: boolean;
}

/**
 * The one upstream WebSocket of the deployment (`stream:0`): providers allow one connection
 * per key, so every scheduler shard tells this object its active symbols and it streams their
 * union, whatever SCHEDULER_SHARDS is. It wires the loop (link, subscriptions, a connection
 * made fresh per socket) and the windows (one tick per symbol per STREAM_BATCH_MS into the
 * sources, then one delivery per hub) to the runtime: sockets, the sources, and the
 * schedulers, which poll what the stream does not serve and bring symbols current over REST
 * after an outage. An outbound socket keeps the object in memory, so it closes once no symbol
 * is wanted.
 */
export class UpstreamStream extends DurableObject<Env> {
  private readonly config: Config;
  /** The provider's codec as a description (name, limits, symbols); each connection has its own. */
  private readonly spec: StreamCodec;
  private readonly wants = new ShardWants();
  private readonly loop: UpstreamLoop;
  /** What this stream counts (METRICS=on), from 0 with the instance. */
  private readonly counts: StreamMetrics | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.spec = this.newCodec();
    this.counts = this.config.metrics
      ? new StreamMetrics(Date.now(), this.spec.provider, {
          state: () => this.loop.link.state.state,
          symbols: () => this.loop.subs.size,
        })
      : undefined;
    const windows = new StreamWindows(
      env,
      {
        batchMs: this.config.feed.streamBatchMs,
        fanoutDegree: this.config.fanoutDegree,
        roundName: () => `round:${this.ctx.id.name ?? "stream"}`,
        provider: this.spec.provider,
        delayed: this.spec.delayed,
      },
      this.counts,
    );
    this.loop = new UpstreamLoop(
      this.spec.provider,
      // FEED_STREAM_SYMBOLS (your plan's limit) or the provider's free plan's.
      this.config.feed.streamSymbols ?? this.spec.limits.symbolsPerConnection,
      {
        baseBackoffMs: 1_000,
        maxBackoffMs: 30_000,
        healthyAfterMs: HEALTHY_AFTER_MS,
        silenceMs: this.config.feed.streamSilenceMs,
        probeTimeoutMs: PROBE_TIMEOUT_MS,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        failedRetryMs: FAILED_RETRY_MS,
        maxConnectionMs: this.spec.limits.maxConnectionMs,
        onReconnect: () => this.counts?.reconnected(),
      },
      windows,
      {
        newCodec: () => this.newCodec(),
        dial: (codec) => this.dial(codec),
        catchUp: (symbols) =>
          void windows.catchUp(symbols, {
            rest: (held) => this.restQuotes(held),
            latest: (held) => this.latestQuotes(held),
            wanted: (s) => this.loop.subs.isSubscribed(s),
          }),
        received: () => this.counts?.received(),
      },
    );
  }

  /** This stream's figures for GET /metrics (undefined when METRICS=false). */
  metrics(): MetricsSnapshot | undefined {
    return this.counts?.snapshot();
  }

  /** A scheduler shard's active symbols (its whole set, each time). */
  follow(shard: number, symbols: string[]): void {
    this.wants.set(
      shard,
      symbols.filter((s) => this.spec.providerSymbol(s) !== undefined),
    );
    this.loop.want(this.wants.union(), Date.now());
  }

  /**
   * The shard's symbols the stream serves just now (the scheduler polls the others); null when
   * this instance was never told the shard's set (it was evicted or restarted): the scheduler tells it.
   */
  streamed(shard: number): string[] | null {
    if (!this.wants.told(shard)) return null;
    return this.loop.served(Date.now()).filter((s) => shardOf(s, this.config.schedulerShards) === shard);
  }

  status(): StreamStatus {
    const { link, subs, faults } = this.loop;
    const s = link.state;
    const fault = "fault" in s ? s.fault : faults.current;
    const now = Date.now();
    const streamed = this.loop.served(now).length;
    return {
      provider: this.spec.provider,
      state: s.state,
      ...(fault ? { fault } : {}),
      subscribed: subs.size,
      streamed,
      unconfirmed: subs.unconfirmed().length,
      polled: subs.wantedCount() - streamed,
      reconnects: link.reconnects,
      ...(s.state === "live" ? { lastMessageAgeMs: now - s.lastMessageAt } : {}),
      malformed: this.loop.malformed,
      gaps: this.loop.gaps,
      delayed: this.spec.delayed,
    };
  }

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

  /** The provider's WebSocket, or the simulator's in-process exchange. */
  private async dial(codec: StreamCodec): Promise<DialResult> {
    if (codec.url() !== "sim:") return dialProvider(codec.url());
    const latest = (symbol: string) =>
      sourceStub(this.env, symbol)
        .latestKnown()
        .then((t) => t?.price)
        .catch(() => undefined);
    const exchange = new SimExchange(this.config.simSeed, latest, this.config.feed.streamBatchMs);
    return { socket: exchange as unknown as WebSocket };
  }

  /** The sources' newest prices, as catch-up quotes (price, time, book). */
  private async latestQuotes(symbols: string[]): Promise<Quote[]> {
    const ticks = await Promise.all(
      symbols.map((s) =>
        sourceStub(this.env, s)
          .latestKnown()
          .catch(() => undefined),
      ),
    );
    return ticks.flatMap((t) =>
      t ? [{ symbol: t.symbol, price: t.price, ts: t.ts, source: t.source, bid: t.bid, ask: t.ask }] : [],
    );
  }

  /** One budgeted REST quote per symbol, each from its scheduler shard (those the budget cannot cover get none). */
  private async restQuotes(symbols: string[]): Promise<Quote[]> {
    const byShard = new Map<number, string[]>();
    for (const s of symbols) appendTo(byShard, shardOf(s, this.config.schedulerShards), s);
    const answers = await Promise.all(
      [...byShard].map(([shard, list]) =>
        schedulerShard(this.env, shard)
          .catchUp(list)
          .catch((err) => {
            log("stream_catch_up_failed", { provider: this.spec.provider, error: String(err) });
            return [];
          }),
      ),
    );
    return answers.flat().flatMap((r) => ("quote" in r ? [r.quote] : []));
  }
}
