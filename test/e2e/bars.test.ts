/** OHLCV bars: the simulator's backfilled day, live bars from ticks, /api/bars caching and entitlements. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bar } from "../../worker/market/bars";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import { sleep, type TickBody } from "../support/stomp";
import { signToken, TEST_SECRET } from "../support/tokens";
import { newYork, xnysReference } from "../support/xnys-reference";

const MIN = 60_000;
const DELAY_MS = 120_000;

interface BarsBody {
  symbol: string;
  interval: string;
  bars: Bar[];
  forming?: number;
  delayed?: boolean;
}

let srv: DevServer;
let rt: Record<string, string>;
beforeAll(async () => {
  srv = await startDevServer({
    vars: { PUBLIC_DELAY_MS: String(DELAY_MS), AUTH_JWT_SECRET: TEST_SECRET, PUBLISH_HOLD_MS: "0" },
  });
  rt = { authorization: `Bearer ${await signToken({ rt: true })}` };
});
afterAll(async () => srv?.stop());

async function bars(path: string, headers: Record<string, string> = rt): Promise<BarsBody> {
  const res = await fetch(`${srv.url}${path}`, { headers });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as BarsBody;
}

/** NYSE's sessions as exchange_calendars lists them: the server's calendar is not consulted. */
const reference = xnysReference();

describe("the simulated default", () => {
  it("serves BAR_DAYS full trading days of one-minute bars at once, each day the count its hours imply", async () => {
    const { bars: minutes } = await bars("/api/bars/AAPL?interval=1m");
    const byDay = new Map<string, Bar[]>();
    for (const b of minutes) {
      const { date, minutes: m } = newYork(b.t);
      // Every bar lies in regular hours: 09:30 to 16:00 New York time.
      expect(m).toBeGreaterThanOrEqual(9 * 60 + 30);
      expect(m).toBeLessThan(16 * 60);
      byDay.set(date, [...(byDay.get(date) ?? []), b]);
    }
    const days = [...byDay.keys()];
    expect(days.length).toBe(5);
    const today = newYork(Date.now()).date;
    // Every day a session of the reference (no holiday), each full but today: 390 bars, 210 on an early close.
    for (const day of days) expect(reference.has(day), `${day} is a session`).toBe(true);
    for (const day of days.filter((d) => d !== today)) {
      const session = reference.get(day)!;
      expect(byDay.get(day)!.length, day).toBe((session.close - session.open) / MIN);
    }
    for (let i = 1; i < minutes.length; i++) expect(minutes[i]!.t).toBeGreaterThan(minutes[i - 1]!.t);
    for (const b of minutes) expect(b.l <= Math.min(b.o, b.c) && b.h >= Math.max(b.o, b.c) && b.v > 0).toBe(true);
    const daily = await bars("/api/bars/AAPL?interval=1d");
    expect(daily.bars.length).toBe(5);
    const last = daily.bars.at(-1)!;
    const lastDay = byDay.get(days.at(-1)!)!;
    expect(last).toMatchObject({ o: lastDay[0]!.o, c: lastDay.at(-1)!.c, v: lastDay.reduce((s, b) => s + b.v, 0) });
  });

  it("continues the history without a jump: the first live tick starts at the last close, with the day's figures from the bars", async () => {
    const { bars: minutes } = await bars("/api/bars/MSFT?interval=1m");
    const history = (await (await fetch(`${srv.url}/api/history/MSFT?limit=500`, { headers: rt })).json()) as {
      ticks: TickBody[];
    };
    const first = history.ticks[0]!;
    const before = minutes.filter((b) => b.t + MIN <= first.ts);
    const lastDay = newYork(before.at(-1)!.t).date;
    const day = before.filter((b) => newYork(b.t).date === lastDay);
    const previous = before.filter((b) => newYork(b.t).date < lastDay);
    expect(first.seq).toBe(1);
    expect(first.price).toBe(before.at(-1)!.c);
    expect(first.open).toBe(day[0]!.o);
    expect(first.prevClose).toBe(previous.at(-1)!.c);
    expect(first.high).toBe(Math.max(...day.map((b) => b.h)));
    expect(first.low).toBe(Math.min(...day.map((b) => b.l)));
  });

  it("derives 5m, 15m, 1h and 1d bars from the one-minute bars", async () => {
    const { bars: minutes } = await bars("/api/bars/BTC-USD?interval=1m");
    const fives = await bars("/api/bars/BTC-USD?interval=5m");
    // Crypto: every minute of five UTC days so far.
    expect(minutes.length).toBeGreaterThan(4 * 1440);
    for (const five of fives.bars.slice(1, -1)) {
      const inside = minutes.filter((b) => b.t >= five.t && b.t < five.t + 5 * MIN);
      expect(five).toEqual({
        t: five.t,
        o: inside[0]!.o,
        h: Math.max(...inside.map((b) => b.h)),
        l: Math.min(...inside.map((b) => b.l)),
        c: inside.at(-1)!.c,
        v: inside.reduce((s, b) => s + b.v, 0),
        n: inside.reduce((s, b) => s + b.n, 0),
      });
    }
    expect((await bars("/api/bars/BTC-USD?interval=1d")).bars.length).toBe(5);
    expect((await bars("/api/bars/BTC-USD?interval=1h&limit=3")).bars.length).toBe(3);
  });
});

describe("live bars", () => {
  it("the forming bar holds the trades of its minute by their own time; a late one corrects its bar, a later one is refused", async () => {
    // Publish well inside a minute, so all ticks land in the same bar.
    while (Date.now() % MIN > 45_000 || Date.now() % MIN < 2_000) await sleep(500);
    const minute = Math.floor(Date.now() / MIN) * MIN;
    const ticks = [
      { symbol: "LBAR-USD", price: 100, volume: 1_000, ts: minute + 1 },
      { symbol: "LBAR-USD", price: 104, volume: 1_040, ts: minute + 500 },
      { symbol: "LBAR-USD", price: 98, volume: 1_100, ts: minute + 1_000 },
      { symbol: "LBAR-USD", price: 105, volume: 1_125, ts: minute + 1_500 },
    ];
    expect((await postTicks(srv.url, ticks, "test-publish-token")).status).toBe(200);
    const live = await bars("/api/bars/LBAR-USD?interval=1m");
    expect(live.forming).toBe(minute);
    // The first tick sets the volume baseline.
    expect(live.bars).toEqual([{ t: minute, o: 100, h: 105, l: 98, c: 105, v: 125, n: 4 }]);
    // Out of order: earlier than the newest trade, so not the close, and not the price either (as for a feed).
    const late = [
      { symbol: "LBAR-USD", price: 101, volume: 1_110, ts: minute + 1_200 },
      // The minute before (final already): a correction, a bar of its own.
      { symbol: "LBAR-USD", price: 500, ts: minute - 1 },
      // Later than the correction window: refused.
      { symbol: "LBAR-USD", price: 400, ts: minute - 20 * MIN },
    ];
    expect((await postTicks(srv.url, late, "test-publish-token")).status).toBe(200);
    expect((await bars("/api/bars/LBAR-USD?interval=1m")).bars).toEqual([
      { t: minute - MIN, o: 500, h: 500, l: 500, c: 500, v: 0, n: 1 },
      { t: minute, o: 100, h: 105, l: 98, c: 105, v: 125, n: 5 },
    ]);
    const history = (await (await fetch(`${srv.url}/api/history/LBAR-USD?limit=1`, { headers: rt })).json()) as {
      ticks: TickBody[];
    };
    expect(history.ticks.at(-1)!.price).toBe(105);
    // The delayed public sees no bar that ended less than PUBLIC_DELAY_MS ago.
    const pub = await bars("/api/bars/LBAR-USD?interval=1m", {});
    expect(pub).toMatchObject({ delayed: true, bars: [] });
    expect(pub.forming).toBeUndefined();
  });

  it("the public sees only bars that ended PUBLIC_DELAY_MS ago, never the forming one", async () => {
    const live = await bars("/api/bars/ETH-USD?interval=1m");
    // The symbol's first tick (now) forms the current minute's bar.
    expect(live.forming).toBe(live.bars.at(-1)!.t);
    const now = Date.now();
    const pub = await bars("/api/bars/ETH-USD?interval=1m", {});
    expect(pub.delayed).toBe(true);
    expect(pub.forming).toBeUndefined();
    expect(pub.bars.length).toBeGreaterThan(100);
    for (const b of pub.bars) expect(b.t + MIN).toBeLessThanOrEqual(Date.now() - DELAY_MS);
    // ...and every one that did.
    expect(pub.bars.at(-1)!.t + MIN).toBeGreaterThan(now - DELAY_MS - MIN);
  });
});

describe("GET /api/bars", () => {
  it("answers a final range with a long-lived Cache-Control and an ETag, from the cache on the second request", async () => {
    const to = Math.floor(Date.now() / MIN) * MIN - 30 * MIN;
    const path = `/api/bars/SPY?interval=5m&from=${new Date(to - 3 * 86_400_000).toISOString()}&to=${to}`;
    const first = await fetch(`${srv.url}${path}`, { headers: rt });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    // Asked with a token: a shared cache must not keep it for others.
    expect(first.headers.get("cache-control")).toMatch(/^private, max-age=\d+, immutable$/);
    expect(first.headers.get("vary")).toBe("Authorization");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^".+"$/);
    const body = await first.text();
    const second = await fetch(`${srv.url}${path}`);
    // The public (delayed) gets the same final range, from the cache, and may share it.
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(second.headers.get("cache-control")).toMatch(/^public, max-age=\d+, immutable$/);
    expect(second.headers.get("vary")).toBe("Authorization");
    expect(second.headers.get("etag")).toBe(etag);
    expect(await second.text()).toBe(body);
    const revalidated = await fetch(`${srv.url}${path}`, { headers: { "if-none-match": etag } });
    expect(revalidated.status).toBe(304);
  });

  it("never caches a range that may hold the forming bar; one whose bars may still be corrected is revalidated", async () => {
    const open = await fetch(`${srv.url}/api/bars/SPY?interval=1m&limit=5`, { headers: rt });
    expect(open.headers.get("cache-control")).toBe("no-store");
    expect(open.headers.get("x-cache")).toBe("BYPASS");
    // (A 24/7 market: a stock's range up to a minute from now has ended at its last close when the market is closed.)
    const recent = await fetch(`${srv.url}/api/bars/BTC-USD?interval=1m&to=${Date.now() + MIN}`, { headers: rt });
    expect(recent.headers.get("cache-control")).toBe("no-store");
    // Ended two minutes ago: a late trade may still correct it.
    const to = Math.floor(Date.now() / MIN) * MIN - 2 * MIN;
    const path = `/api/bars/BTC-USD?interval=1m&from=${to - 10 * MIN}&to=${to}`;
    const ended = await fetch(`${srv.url}${path}`, { headers: rt });
    expect(ended.headers.get("cache-control")).toBe("no-cache");
    expect(ended.headers.get("x-cache")).toBe("BYPASS");
    expect(((await ended.json()) as BarsBody).bars.length).toBe(10);
    const again = await fetch(`${srv.url}${path}`, { headers: { ...rt, "if-none-match": ended.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  it("answers every bar whole: a `to` inside a bucket takes the whole bucket, and names the same cache entry", async () => {
    const minutesOf = async (symbol: string, from: number, to: number) =>
      (await bars(`/api/bars/${symbol}?interval=1m&from=${from}&to=${to}`)).bars;
    const whole = (t: number, inside: Bar[]) => ({
      t,
      o: inside[0]!.o,
      h: Math.max(...inside.map((b) => b.h)),
      l: Math.min(...inside.map((b) => b.l)),
      c: inside.at(-1)!.c,
      v: inside.reduce((s, b) => s + b.v, 0),
      n: inside.reduce((s, b) => s + b.n, 0),
    });
    // Five-minute bars: `to` two minutes into a bucket.
    const t0 = Math.floor((Date.now() - 2 * 3_600_000) / (5 * MIN)) * 5 * MIN;
    const first = await fetch(`${srv.url}/api/bars/BTC-USD?interval=5m&from=${t0 - 10 * MIN}&to=${t0 + 2 * MIN}`, {
      headers: rt,
    });
    const fives = ((await first.json()) as BarsBody).bars;
    expect(fives.map((b) => b.t)).toEqual([t0 - 10 * MIN, t0 - 5 * MIN, t0]);
    expect(fives.at(-1)).toEqual(whole(t0, await minutesOf("BTC-USD", t0, t0 + 5 * MIN)));
    const same = await fetch(`${srv.url}/api/bars/BTC-USD?interval=5m&from=${t0 - 12 * MIN}&to=${t0 + 4 * MIN}`, {
      headers: rt,
    });
    expect(same.headers.get("x-cache")).toBe("HIT");
    expect(same.headers.get("etag")).toBe(first.headers.get("etag"));
    // A day: `to` at 17:00Z, inside the session, takes the whole session.
    const session = [...reference.values()].filter((s) => s.close < Date.now() - 2 * 3_600_000).at(-1)!;
    const day = newYork(session.open).date;
    const daily = await bars(`/api/bars/AAPL?interval=1d&from=${day}&to=${day}T17:00:00Z`);
    expect(daily.bars).toEqual([whole(session.open, await minutesOf("AAPL", session.open, session.close))]);
    // FX: the day that starts in the range (17:00 New York the evening before), whole.
    const before = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const fx = await bars(`/api/bars/EURUSD=X?interval=1d&from=${before}&to=${day}`);
    const fxOpen = session.open - (16 * 60 + 30) * MIN; // 17:00 New York the day before, 09:30 + 7.5 h earlier
    expect(fx.bars).toEqual([whole(fxOpen, await minutesOf("EURUSD=X", fxOpen, fxOpen + 1_440 * MIN))]);
    expect(fx.bars[0]!.n).toBe(1_440 * 60);
  });

  it("rejects bad queries with 400 and a one-line reason", async () => {
    for (const [query, reason] of [
      ["interval=2m", /interval must be one of 1m, 5m, 15m, 1h, 1d/],
      ["from=yesterday", /from: use ISO 8601 .* or epoch seconds \(10 digits\) or milliseconds \(13 digits\)/],
      ["to=12-04-2026", /to: use ISO 8601/],
      ["from=2026-12-04&to=2026-12-03", /to must be after from/],
      ["from=2026-02-30", /from: 2026-02-30 is not a calendar date/],
      ["from=2026-12-04T14:30", /from: 2026-12-04T14:30 has no offset/],
      ["to=179600000000", /to: 179600000000 is neither epoch seconds \(10 digits\) nor milliseconds \(13 digits\)/],
      ["limit=0", /limit must be a decimal integer from 1 to 10000/],
      ["limit=10001", /limit must be a decimal integer from 1 to 10000/],
      ["limit=0x10", /limit must be a decimal integer/],
      ["limit=1e3", /limit must be a decimal integer/],
    ] as const) {
      const res = await fetch(`${srv.url}/api/bars/AAPL?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get("x-error-code")).toBe("invalid-parameter");
      expect(await res.text()).toMatch(reason);
    }
    expect((await fetch(`${srv.url}/api/bars/${encodeURIComponent("not a symbol")}`)).status).toBe(400);
  });
});
