/**
 * `/api/bars` caching that never keeps a wrong answer, in token mode (AUTH_MODE=token) with a
 * real provider's history (FEED_PROVIDER=polygon on a fake Polygon whose minute aggregates for
 * LAGGY come after 3 s): a range asked while the history is being fetched is not cached (and
 * says why it is short); once the history is in, the same range is whole and cached; every
 * answer depends on the caller's token, so it is `private` and `Vary: Authorization`.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Bar } from "../../worker/market/bars";
import { type DevServer, startDevServer } from "../support/dev-server";
import { type FakeProviders, GOOD_KEY, polygonMinuteBar, startFakeProviders } from "../support/fake-providers";
import { sleep } from "../support/stomp";
import { signToken, TEST_SECRET } from "../support/tokens";
import { xnysReference } from "../support/xnys-reference";

interface BarsBody {
  bars: Bar[];
  partial?: string;
}

let fake: FakeProviders;
let srv: DevServer;
let token: Record<string, string>;
beforeAll(async () => {
  fake = await startFakeProviders();
  srv = await startDevServer({
    vars: {
      FEED_PROVIDER: "polygon",
      FEED_BASE_URL: fake.url,
      FEED_API_KEY: GOOD_KEY,
      FEED_REQUESTS_PER_MINUTE: "60",
      FEED_RETRIES: "0",
      AUTH_MODE: "token",
      AUTH_JWT_SECRET: TEST_SECRET,
    },
  });
  token = { authorization: `Bearer ${await signToken({ rt: true })}` };
});
afterAll(async () => {
  await srv?.stop();
  await fake?.close();
});

/** The newest full NYSE session that ended over an hour ago (the fake's plan keeps four days: it has it). */
function lastFullSession(): { open: number; close: number } {
  const sessions = [...xnysReference().values()].filter((s) => s.close < Date.now() - 3_600_000);
  return sessions.sort((a, b) => a.open - b.open).at(-1)!;
}

it("a range asked while the history is being fetched is not cached; asked again once it is in, it is whole and cached", async () => {
  const { open, close } = lastFullSession();
  const path = `/api/bars/LAGGY?interval=5m&from=${open}&to=${close}`;
  const first = await fetch(`${srv.url}${path}`, { headers: token });
  expect(first.status, await first.clone().text()).toBe(200);
  const during = (await first.json()) as BarsBody;
  expect(during.partial).toMatch(/history is being fetched from polygon/);
  expect(first.headers.get("cache-control")).toBe("no-cache");
  expect(first.headers.get("x-cache")).toBe("BYPASS");
  // The aggregates come 3 s after they were asked for.
  await sleep(3_500);
  const second = await fetch(`${srv.url}${path}`, { headers: token });
  const after = (await second.json()) as BarsBody;
  expect(after.partial).toBeUndefined();
  expect(after.bars.length).toBe((close - open) / 300_000);
  // Whole five-minute bars from the provider's minutes.
  const minutes = [0, 1, 2, 3, 4].map((k) => polygonMinuteBar(after.bars[3]!.t + k * 60_000));
  expect(after.bars[3]).toEqual({
    t: after.bars[3]!.t,
    o: minutes[0]!.o,
    h: Math.max(...minutes.map((m) => m.h)),
    l: Math.min(...minutes.map((m) => m.l)),
    c: minutes[4]!.c,
    v: minutes.reduce((s, m) => s + m.v, 0),
    n: 60,
  });
  expect(second.headers.get("x-cache")).toBe("MISS");
  expect(second.headers.get("cache-control")).toMatch(/^private, max-age=\d+, immutable$/);
  const third = await fetch(`${srv.url}${path}`, { headers: token });
  expect(third.headers.get("x-cache")).toBe("HIT");
  expect(await third.json()).toEqual(after);
  // Only one history request: the first answer did not ask twice.
  expect(fake.requests.filter((r) => r.path.startsWith("/v2/aggs/ticker/LAGGY/")).length).toBe(1);
});

it("in token mode every answer is private and varies with Authorization; no token is a 401 nobody keeps", async () => {
  const { open, close } = lastFullSession();
  const path = `/api/bars/AAPL?interval=1h&from=${open}&to=${close}`;
  for (let i = 0; i < 50; i++) {
    const body = (await (await fetch(`${srv.url}${path}`, { headers: token })).json()) as BarsBody;
    if (!body.partial?.includes("being fetched")) break;
    await sleep(200);
  }
  const closed = await fetch(`${srv.url}${path}`, { headers: token });
  expect(closed.headers.get("cache-control")).toMatch(/^private, max-age=\d+, immutable$/);
  expect(closed.headers.get("vary")).toBe("Authorization");
  const open_ = await fetch(`${srv.url}/api/bars/AAPL?interval=1m&limit=5`, { headers: token });
  expect(open_.headers.get("cache-control")).toBe("no-store");
  expect(open_.headers.get("vary")).toBe("Authorization");
  const anonymous = await fetch(`${srv.url}${path}`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get("cache-control") ?? "").not.toMatch(/public/);
  // A token for other symbols gets nothing from the cache either.
  const other = await fetch(`${srv.url}${path}`, {
    headers: { authorization: `Bearer ${await signToken({ rt: true, sym: ["MSFT"] })}` },
  });
  expect(other.status).toBe(403);
});
