/**
 * `/topic/bars.{SYMBOL}.1m` with unmodified @stomp/stompjs: the recent bars as a snapshot,
 * the forming bar at most once a second and each final bar, matching the ticks sent in
 * that minute; resuming with `x-since` without a gap; a delayed connection never gets a
 * bar that ended less than PUBLIC_DELAY_MS ago.
 */
import type { IMessage } from "@stomp/stompjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BarMessage } from "../../worker/broker/stream-frame";
import type { Bar } from "../../worker/market/bars";
import { clockStartingAt } from "../support/clock";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import { Collector, connectStomp, sleep } from "../support/stomp";
import { signToken, TEST_SECRET } from "../support/tokens";

const MIN = 60_000;
const DELAY_MS = 4_000;
const TOKEN = "test-publish-token";
/**
 * The worker's clock starts 28 s into a minute (less than 90 s ahead of the real one), and the
 * tests read the same clock: a server up within 20 s has them reach their minute in its second
 * half, so they wait a quarter of a minute or so for its end instead of a random 20 to 60 s.
 */
const clock = clockStartingAt(Math.ceil(Date.now() / MIN) * MIN + 28_000);
const now = () => clock.now();

let srv: DevServer;
let rt: Record<string, string>;
beforeAll(async () => {
  srv = await startDevServer({
    clock,
    vars: {
      PUBLIC_DELAY_MS: String(DELAY_MS),
      AUTH_JWT_SECRET: TEST_SECRET,
      TICK_INTERVAL_MS: "3600000", // prices only from the test's publishes (and first quotes)
      PUBLISH_HOLD_MS: "3600000",
      INTEREST_DEBOUNCE_MS: "100",
    },
  });
  rt = { Authorization: `Bearer ${await signToken({ rt: true })}` };
});
afterAll(async () => srv?.stop());

/** Each message with when it arrived. */
class Timed extends Collector {
  readonly at: number[] = [];
  constructor(...args: ConstructorParameters<typeof Collector>) {
    super(args[0], args[1], args[2]);
    const push = this.messages.push.bind(this.messages);
    this.messages.push = (...m: IMessage[]) => {
      for (const _ of m) this.at.push(now());
      return push(...m);
    };
  }
  get bars(): BarMessage[] {
    return this.messages.map((m) => JSON.parse(m.body) as BarMessage);
  }
  async until(pred: (bars: BarMessage[]) => boolean, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.bars)) {
      if (Date.now() > end) throw new Error(`timed out; got ${JSON.stringify(this.bars.slice(-3))}`);
      await sleep(50);
    }
  }
}

async function publish(symbol: string, prices: Array<[number, number]>): Promise<void> {
  const res = await postTicks(
    srv.url,
    prices.map(([price, volume]) => ({ symbol, price, volume })),
    TOKEN,
  );
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Waits until the clock is inside a minute, 12 s before its end at the latest (so a test's ticks share one). */
async function insideMinute(): Promise<number> {
  while (now() % MIN > 48_000 || now() % MIN < 1_000) await sleep(250);
  return Math.floor(now() / MIN) * MIN;
}

describe("live bars over STOMP", () => {
  // The two tests that wait for a minute to end run side by side (their own symbols): one wait, not two.
  it.concurrent("streams the forming bar at most once a second and the final bar, each matching that minute's ticks; resumes without a gap; the delayed stream waits", async () => {
    const symbol = "STRM-USD";
    // The symbol exists (and its volume baseline is set) before anyone subscribes: a trade later than the
    // correction window (15 minutes) makes no bar.
    const res = await postTicks(srv.url, [{ symbol, price: 50, volume: 10, ts: now() - 20 * MIN }], TOKEN);
    expect(res.status).toBe(200);
    const live = await connectStomp(srv.url, undefined, { headers: rt });
    const pub = await connectStomp(srv.url);
    const bars = new Timed(live.client, `/topic/bars.${symbol}.1m`);
    const delayed = new Timed(pub.client, `/topic/bars.${symbol}.1m`);
    await sleep(500);

    const minute = await insideMinute();
    const sent: Array<[number, number]> = [
      [100, 100],
      [104, 140],
      [98, 200],
      [101, 225],
      [103, 260],
    ];
    await publish(symbol, sent.slice(0, 3));
    await publish(symbol, sent.slice(3));
    // The forming bar converges on this minute's ticks.
    await bars.until((b) => b.some((x) => x.t === minute && x.n === 5), 5_000);
    const forming = bars.bars.filter((b) => b.t === minute);
    expect(forming.every((b) => !b.final)).toBe(true);
    expect(forming.at(-1)).toMatchObject({
      symbol,
      interval: "1m",
      t: minute,
      o: 100,
      h: 104,
      l: 98,
      c: 103,
      v: 250,
      n: 5,
      final: false,
    });
    // At most one bar update a second.
    for (let i = 1; i < bars.at.length; i++) expect(bars.at[i]! - bars.at[i - 1]!).toBeGreaterThan(900);

    // Resume: away while the minute ends, then back from the last position.
    const last = bars.messages.at(-1)!;
    const since = `${last.headers["x-epoch"]}:${last.headers["x-seq"]}`;
    await live.disconnect();
    await publish(symbol, [[105, 300]]);
    while (now() < minute + MIN + 200) await sleep(200);
    await publish(symbol, [[106, 310]]); // the next minute: the bar of `minute` is final
    const again = await connectStomp(srv.url, undefined, { headers: rt });
    const resumed = new Timed(again.client, `/topic/bars.${symbol}.1m`, { "x-since": since });
    await resumed.until((b) => b.some((x) => x.t === minute + MIN), 5_000);
    const seqs = [Number(last.headers["x-seq"]), ...resumed.messages.map((m) => Number(m.headers["x-seq"]))];
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(resumed.messages.some((m) => m.headers["x-gap"] !== undefined)).toBe(false);
    const final = resumed.bars.find((b) => b.t === minute && b.final);
    expect(final).toMatchObject({ t: minute, o: 100, h: 105, l: 98, c: 105, v: 290, n: 6, final: true });

    // The delayed connection: that final bar only once it ended DELAY_MS ago, never a forming one.
    await delayed.until((b) => b.some((x) => x.t === minute), 15_000);
    const i = delayed.bars.findIndex((x) => x.t === minute);
    expect(delayed.at[i]! - (minute + MIN)).toBeGreaterThanOrEqual(DELAY_MS);
    expect(delayed.bars[i]).toMatchObject({ ...final, delayed: true });
    expect(delayed.messages[i]!.headers["x-delay-ms"]).toBe(String(DELAY_MS));
    delayed.bars.forEach((b, k) => {
      expect(b.final).toBe(true);
      expect(delayed.at[k]! - (b.t + MIN)).toBeGreaterThanOrEqual(DELAY_MS);
    });
    await again.disconnect();
    await pub.disconnect();
  }, 120_000);

  it.concurrent("sends a late trade's change to a final bar as a correction; /api/bars answers holding it change their ETag", async () => {
    const symbol = "CORR-USD";
    expect((await postTicks(srv.url, [{ symbol, price: 50, ts: now() - 2 * MIN }], TOKEN)).status).toBe(200);
    const live = await connectStomp(srv.url, undefined, { headers: rt });
    const pub = await connectStomp(srv.url);
    const bars = new Timed(live.client, `/topic/bars.${symbol}.1m`);
    const delayed = new Timed(pub.client, `/topic/bars.${symbol}.1m`);
    await sleep(500);
    const minute = await insideMinute();
    expect((await postTicks(srv.url, [{ symbol, price: 100, ts: now() }], TOKEN)).status).toBe(200);
    // The clock ends the minute: its bar goes out final.
    await bars.until((b) => b.some((x) => x.t === minute && x.final), MIN + 5_000);
    const path = `/api/bars/${symbol}?interval=1m&from=${minute}&to=${minute + MIN}`;
    const before = await fetch(`${srv.url}${path}`, { headers: rt });
    expect(before.headers.get("cache-control")).toBe("no-cache");
    const etag = before.headers.get("etag")!;
    expect(((await before.json()) as { bars: Bar[] }).bars).toEqual([
      { t: minute, o: 100, h: 100, l: 100, c: 100, v: 0, n: 1 },
    ]);
    // A trade stamped at the end of that minute arrives now: the bar's new close.
    expect((await postTicks(srv.url, [{ symbol, price: 90, ts: minute + 59_000 }], TOKEN)).status).toBe(200);
    await bars.until((b) => b.some((x) => x.t === minute && x.correction), 5_000);
    const correction = bars.bars.find((x) => x.t === minute && x.correction)!;
    expect(correction).toEqual({
      symbol,
      interval: "1m",
      t: minute,
      o: 100,
      h: 100,
      l: 90,
      c: 90,
      v: 0,
      n: 2,
      final: true,
      correction: true,
    });
    expect(bars.bars.filter((x) => x.t === minute && x.final && !x.correction)).toHaveLength(1);
    const after = await fetch(`${srv.url}${path}`, { headers: { ...rt, "if-none-match": etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(etag);
    expect(((await after.json()) as { bars: Bar[] }).bars[0]).toMatchObject({ c: 90, n: 2 });
    // The delayed stream: the final bar, then its correction, each once the bar ended DELAY_MS ago.
    await delayed.until((b) => b.some((x) => x.t === minute && x.correction), 15_000);
    expect(delayed.bars.filter((x) => x.t === minute).map((x) => [x.c, x.correction === true])).toEqual([
      [100, false],
      [90, true],
    ]);
    await live.disconnect();
    await pub.disconnect();
  }, 120_000);

  it("gives a new subscriber the recent bars as its snapshot: the simulator's history, oldest first", async () => {
    const c = await connectStomp(srv.url, undefined, { headers: rt });
    const bars = new Timed(c.client, "/topic/bars.SNAP-USD.1m");
    await bars.until((b) => b.length >= 30, 5_000);
    const snapshot = bars.bars.slice(0, 30);
    for (let i = 1; i < snapshot.length; i++) expect(snapshot[i]!.t).toBe(snapshot[i - 1]!.t + MIN);
    expect(snapshot.every((b) => b.final)).toBe(true);
    // The same bars /api/bars serves.
    const api = (await (
      await fetch(`${srv.url}/api/bars/SNAP-USD?interval=1m&from=${snapshot[0]!.t}&to=${snapshot.at(-1)!.t + 1}`, {
        headers: rt,
      })
    ).json()) as { bars: Bar[] };
    expect(snapshot.map(({ t, o, h, l, c: close, v, n }) => ({ t, o, h, l, c: close, v, n }))).toEqual(api.bars);
    // A delayed subscriber's snapshot holds only bars that ended DELAY_MS ago.
    const p = await connectStomp(srv.url);
    const pubBars = new Timed(p.client, "/topic/bars.SNAP-USD.1m");
    await pubBars.until((b) => b.length >= 30, 5_000);
    for (const [k, b] of pubBars.bars.entries()) expect(pubBars.at[k]! - (b.t + MIN)).toBeGreaterThanOrEqual(DELAY_MS);
    await c.disconnect();
    await p.disconnect();
  });

  it("refuses an interval other than 1m with a reason", async () => {
    const c = await connectStomp(srv.url);
    c.client.subscribe("/topic/bars.AAPL.5m", () => {});
    await c.closed;
    expect(c.errors[0]?.headers.message).toMatch(/Unknown destination|unknown destination/i);
    expect(c.errors[0]?.body).toMatch(/bars stream as \/topic\/bars\.\{SYMBOL\}\.1m/);
  });
});
