import type { IMessage, StompSubscription } from "@stomp/stompjs";
import type { Bar } from "../../worker/market/bars";
import type { Tick } from "../../worker/market/tick";
import { clockStartingAt, type ShiftedClock } from "../support/clock";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type FakeProvider, startFakeProvider } from "../support/fakes";
import { type Connected, connectStomp, sleep } from "../support/stomp";
import type { Profile } from "./profiles";

/**
 * One conformance run: a fake provider (its market listed with each case's symbols), Edge
 * Ticker on it (one server for every case), and per case three viewers (unmodified stompjs
 * clients) that remember when each tick arrived.
 */
export interface Arrival {
  /** Real clock (ms). */
  at: number;
  tick: Tick & { dayVolume?: number; size?: number };
}

export class Viewer {
  readonly arrivals = new Map<string, Arrival[]>();
  private readonly subscriptions = new Map<string, StompSubscription>();
  /** Set when the server closed this viewer's connection (it then watches nothing more). */
  closed?: { at: number; code: number; reason: string; errors: string[] };
  /** It left on its own (its close is no fault). */
  private left = false;

  constructor(readonly connection: Connected) {
    void connection.closed.then(({ code, reason }) => {
      if (this.left) return;
      this.closed = {
        at: Date.now(),
        code,
        reason,
        errors: connection.errors.map((e) => `${e.headers.message}: ${e.body.slice(0, 100)}`),
      };
    });
  }

  watch(symbol: string): void {
    if (this.subscriptions.has(symbol) || this.closed || !this.connection.client.connected) return;
    this.arrivals.set(symbol, this.arrivals.get(symbol) ?? []);
    const sub = this.connection.client.subscribe(`/topic/ticker.${symbol}`, (m: IMessage) => {
      this.arrivals.get(symbol)!.push({ at: Date.now(), tick: JSON.parse(m.body) as Arrival["tick"] });
    });
    this.subscriptions.set(symbol, sub);
  }

  /** Leaves for good (not a fault: `closed` stays unset). */
  async disconnect(): Promise<void> {
    this.left = true;
    await this.connection.disconnect().catch(() => undefined);
  }

  leave(symbol: string): void {
    if (this.closed || !this.connection.client.connected) return;
    this.subscriptions.get(symbol)?.unsubscribe();
    this.subscriptions.delete(symbol);
  }

  of(symbol: string): Arrival[] {
    return this.arrivals.get(symbol) ?? [];
  }

  latest(symbol: string): Arrival["tick"] | undefined {
    return this.of(symbol).at(-1)?.tick;
  }
}

export interface Run {
  profile: Profile;
  clock: ShiftedClock;
  fake: FakeProvider;
  srv: DevServer;
  /** The viewers of the case at hand (forCase gives each case three of its own). */
  viewers: Viewer[];
  /** Every case's viewers, by case. */
  groups: Map<string, Viewer[]>;
  /** Worker config the cases reason with. */
  config: { tickIntervalMs: number; requestsPerMinute: number; batchMs: number; shards: number };
  stop(): Promise<void>;
}

/**
 * Wednesday 18 November 2026, 10:59:20 New York (EST, UTC-5): a regular session, a minute
 * boundary (11:00) soon after the server is ready, and a delayed feed's stamps (10:44 on)
 * inside the session too.
 */
export const SESSION_START = Date.parse("2026-11-18T15:59:20Z");

export async function startRun(profile: Profile, symbols: Array<{ base: string; listed: boolean }>): Promise<Run> {
  const clock = clockStartingAt(SESSION_START);
  const fake = await startFakeProvider(profile.provider, { clock, delayed: profile.delayed });
  const crypto = profile.symbol("X") !== "X";
  for (const { base, listed } of symbols) {
    if (!listed) continue;
    const last = 100 + (base.charCodeAt(0) % 50) + base.length;
    fake.market.list(
      profile.theirs(profile.symbol(base)),
      {
        last,
        open: last - 1,
        prevClose: last - 2,
        volume: profile.dayBefore,
        volume24h: profile.dayBefore * 3,
        prevVolume: profile.dayBefore * 2,
      },
      // Equities' day starts at the 09:30 open; a crypto day at UTC midnight.
      crypto ? undefined : Date.parse("2026-11-18T14:30:00Z"),
    );
  }
  const config = {
    tickIntervalMs: 1_000,
    requestsPerMinute: 60,
    batchMs: 50,
    shards: Number(process.env.CONFORMANCE_SHARDS ?? 4),
  };
  const srv = await startDevServer({
    clock,
    vars: {
      ...fake.vars,
      FEED_REQUESTS_PER_MINUTE: String(config.requestsPerMinute),
      FEED_TIMEOUT_MS: "2000",
      FEED_RETRIES: "0",
      TICK_INTERVAL_MS: String(config.tickIntervalMs),
      STREAM_BATCH_MS: String(config.batchMs),
      STREAM_SILENCE_MS: "10000",
      SCHEDULER_SHARDS: String(config.shards),
      ...profile.vars,
    },
  });
  const groups = new Map<string, Viewer[]>();
  return {
    profile,
    clock,
    fake,
    srv,
    viewers: [],
    groups,
    config,
    stop: async () => {
      for (const v of [...groups.values()].flat()) await v.disconnect();
      await srv.stop();
      await fake.close();
    },
  };
}

/**
 * The run as one case sees it: three viewers of its own (a server that drops a viewer's
 * connection, say for an ERROR frame about one symbol, then spoils only that case).
 */
export async function forCase(run: Run, name: string): Promise<Run> {
  const viewers = await Promise.all([0, 1, 2].map(async () => new Viewer(await connectStomp(run.srv.url))));
  run.groups.set(name, viewers);
  return { ...run, viewers };
}

/** Viewers of `name` the server disconnected (a viewer leaving on its own closes with 1000 and no ERROR frame). */
export function dropped(
  run: Run,
  name: string,
): Array<{ viewer: number; code: number; reason: string; errors: string[] }> {
  return (run.groups.get(name) ?? []).flatMap((v, viewer) =>
    v.closed && (v.closed.code !== 1000 || v.closed.errors.length > 0) ? [{ viewer, ...v.closed }] : [],
  );
}

/** Polls `read` until `ok` or the deadline; the last value either way (never throws). */
export async function waitFor<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await sleep(50);
  }
}

export interface QuoteBody {
  symbol: string;
  price: number;
  volume?: number;
  dayVolume?: number;
  ts: number;
}

export async function quotes(run: Run, symbols: string[]): Promise<QuoteBody[]> {
  const res = await fetch(`${run.srv.url}/api/quotes?symbols=${symbols.join(",")}`);
  if (res.status !== 200) return [];
  return ((await res.json()) as { quotes: QuoteBody[] }).quotes;
}

export async function minuteBars(run: Run, symbol: string, from: number): Promise<Bar[]> {
  const res = await fetch(`${run.srv.url}/api/bars/${symbol}?interval=1m&from=${from}`);
  if (res.status !== 200) return [];
  return ((await res.json()) as { bars: Bar[] }).bars;
}

/** A tick's day volume: `dayVolume` where the worker says it, else `volume` (the field's older meaning). */
export const dayVolumeOf = (t: { dayVolume?: number; volume?: number } | undefined) => t?.dayVolume ?? t?.volume;

export const within = (observed: number | undefined, expected: number, share: number) =>
  observed !== undefined && Math.abs(observed - expected) <= expected * share;

/** The upstream streams as /healthz shows them to the operator (state, fault, counts per shard). */
export async function streamStatus(run: Run): Promise<unknown> {
  const res = await fetch(`${run.srv.url}/healthz`, { headers: { Authorization: "Bearer test-publish-token" } });
  if (res.status !== 200) return `HTTP ${res.status}`;
  return ((await res.json()) as { streams?: unknown }).streams;
}
