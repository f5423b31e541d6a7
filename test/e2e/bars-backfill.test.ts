/**
 * A real provider's history: FEED_PROVIDER=polygon pointed at a fake Polygon on 127.0.0.1
 * speaking its documented minute-aggregates format. A new symbol's bars come from one
 * request within the request budget, and are marked partial where the plan gave less.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import {
  type FakeProviders,
  GOOD_KEY,
  POLYGON_AGGS_DAYS,
  polygonMinuteBar,
  startFakeProviders,
} from "../support/fake-providers";
import { sleep } from "../support/stomp";

// The new symbols' share (a quarter) of 12 requests a minute: three at once.
const RPM = 12;
let fake: FakeProviders;
let srv: DevServer;
beforeAll(async () => {
  fake = await startFakeProviders();
  srv = await startDevServer({
    vars: {
      FEED_PROVIDER: "polygon",
      FEED_BASE_URL: fake.url,
      FEED_API_KEY: GOOD_KEY,
      FEED_REQUESTS_PER_MINUTE: String(RPM),
      FEED_RETRIES: "0",
    },
  });
});
afterAll(async () => {
  await srv?.stop();
  await fake?.close();
});

interface BarsBody {
  bars: Array<{ t: number; o: number; h: number; l: number; c: number; v: number; n: number }>;
  partial?: string;
}

async function barsOnce(symbol: string): Promise<BarsBody> {
  const res = await fetch(`${srv.url}/api/bars/${symbol}?interval=1m`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as BarsBody;
}

/** Polls until the history (fetched after the first price) is in, or the source has said why not. */
async function history(symbol: string): Promise<BarsBody> {
  for (let i = 0; i < 50; i++) {
    const body = await barsOnce(symbol);
    // While it is being fetched, the answer says so.
    if (!body.partial?.includes("being fetched")) return body;
    await sleep(100);
  }
  throw new Error(`no history for ${symbol}`);
}

const aggsRequests = (ticker: string) =>
  fake.requests.filter((r) => r.path.startsWith(`/v2/aggs/ticker/${ticker}/range/1/minute/`));

it("backfills a new symbol from the provider's minute aggregates in one request, marked partial where the plan keeps less", async () => {
  const started = Date.now();
  const body = await history("AAPL");
  expect(aggsRequests("AAPL").length).toBe(1);
  const [req] = aggsRequests("AAPL");
  expect(req!.headers.authorization).toBe(`Bearer ${GOOD_KEY}`);
  expect(req!.query.get("sort")).toBe("asc");
  const [, from, to] = /\/minute\/(\d+)\/(\d+)$/.exec(req!.path)!.map(Number) as [number, number, number];
  // Five trading days asked for; the fake plan keeps four calendar days.
  expect(started - from).toBeGreaterThan(POLYGON_AGGS_DAYS * 86_400_000);
  expect(body.partial).toMatch(/the plan keeps less/);
  expect(body.bars.length).toBeGreaterThan(0);
  for (const b of body.bars) {
    const { o, h, l, c, v, n } = polygonMinuteBar(b.t);
    expect(b).toEqual({ t: b.t, o, h, l, c, v, n });
    expect(b.t).toBeLessThan(to + 1);
    // Regular hours only: 09:30 to 16:00 New York (14:30-21:00 UTC in winter, 13:30-20:00 in summer).
    const utcMinutes = (b.t % 86_400_000) / 60_000;
    expect(utcMinutes >= 13 * 60 + 30 && utcMinutes < 21 * 60).toBe(true);
  }
});

it("never exceeds the request budget for histories: without room, a symbol's history is marked missing, not fetched", async () => {
  // AAPL used two of the three: MSFT's first price takes the last one.
  const body = await history("MSFT");
  expect(body.bars).toEqual([]);
  expect(body.partial).toMatch(/no history: no room in the polygon request budget/);
  expect(aggsRequests("MSFT").length).toBe(0);
});
