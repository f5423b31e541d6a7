import { describe, expect, it } from "vitest";
import { Coalescer } from "../../worker/feeds/stream/coalescer";
import type { StreamFault } from "../../worker/feeds/stream/codec";
import { CurrentFault } from "../../worker/feeds/stream/current-fault";
import { Link, type LinkOptions } from "../../worker/feeds/stream/link";
import { OwedCatchUps } from "../../worker/feeds/stream/owed-catch-ups";
import { ShardWants, SubscriptionSet } from "../../worker/feeds/stream/subscriptions";
import type { Unavailable } from "../../worker/feeds/unavailable";
import { CONDITION_RULES, REPLAYED } from "../../worker/market/trade-conditions";
import { FirstPrice } from "../../worker/objects/source/first-price";

const T = 1_795_000_000_000;

describe("coalescer", () => {
  it("a window's trades become one tick: last price, summed size, high and low; quotes set bid/ask", () => {
    const c = new Coalescer();
    c.trade("A", 10, 1, T);
    c.trade("A", 12, 2, T + 1);
    c.trade("A", 9, 3, T + 2);
    c.trade("A", 11, 4, T + 3);
    c.quote("A", 10.9, 11.1);
    c.trade("B", 5, undefined, T);
    expect(c.drain()).toEqual([
      { symbol: "A", price: 11, ts: T + 3, size: 10, high: 12, low: 9, bid: 10.9, ask: 11.1, trades: 4 },
      { symbol: "B", price: 5, ts: T, high: 5, low: 5, trades: 1 },
    ]);
    expect(c.drain()).toEqual([]);
    expect(c.pending).toBe(false);
  });

  it("each trade counts as its conditions allow: an odd lot or an out-of-sequence print never becomes the last price", () => {
    const c = new Coalescer();
    c.trade("AAPL", 190, 100, T, CONDITION_RULES.regular);
    c.trade("AAPL", 182.5, 50, T + 1, CONDITION_RULES.outOfSequence);
    c.trade("AAPL", 183, 7, T + 2, CONDITION_RULES.oddLot);
    c.trade("AAPL", 181, 500, T + 3, CONDITION_RULES.averagePrice);
    c.trade("AAPL", 195, 0, T + 4, CONDITION_RULES.officialClose);
    // Volume: everything but the official close; high/low: the regular and the out-of-sequence print.
    expect(c.drain()).toEqual([{ symbol: "AAPL", price: 190, ts: T, size: 657, high: 190, low: 182.5, trades: 5 }]);
    // A window with only non-last-eligible prints keeps the last price and adds their volume.
    c.trade("AAPL", 170, 9, T + 5, CONDITION_RULES.oddLot);
    expect(c.drain()).toEqual([{ symbol: "AAPL", price: 190, ts: T, size: 9, trades: 1 }]);
    // Replayed trades (Coinbase's snapshot on subscribe) may bring the price current, never volume.
    c.trade("BTC-USD", 100, 2, T, REPLAYED);
    expect(c.drain()).toEqual([{ symbol: "BTC-USD", price: 100, ts: T, trades: 1 }]);
  });

  it("an out-of-order trade counts toward size and range but never moves the price backwards", () => {
    const c = new Coalescer();
    c.trade("A", 10, 1, T + 10);
    c.trade("A", 8, 1, T + 5);
    expect(c.drain()).toEqual([{ symbol: "A", price: 10, ts: T + 10, size: 2, high: 10, low: 8, trades: 2 }]);
    c.trade("A", 7, 1, T + 1);
    expect(c.drain()[0]).toMatchObject({ price: 10, ts: T + 10 });
  });

  it("a crossed quote is ignored; quotes before any trade wait for a price", () => {
    const c = new Coalescer();
    c.quote("A", 11, 10);
    c.quote("B", 1, 2);
    expect(c.drain()).toEqual([]);
    c.trade("B", 1.5, 1, T);
    expect(c.drain()).toEqual([
      { symbol: "B", price: 1.5, ts: T, size: 1, high: 1.5, low: 1.5, bid: 1, ask: 2, trades: 1 },
    ]);
  });

  it("after an outage a symbol waits for its catch-up: one gap-marked tick, with the caught-up price", () => {
    const c = new Coalescer();
    c.trade("A", 10, 1, T + 10);
    c.drain();
    c.hold(["A"]);
    // Held, nothing since: only the price from before the outage is known (the catch-up waits for REST).
    expect(c.priced("A")).toBe(false);
    // Messages before the REST answer (Alpaca's `authenticated`, trades) do not let the window out.
    c.trade("A", 10.5, 3, T + 12);
    expect(c.priced("A")).toBe(true);
    expect(c.pending).toBe(false);
    expect(c.drain()).toEqual([]);
    c.catchUp({ symbol: "A", price: 11, ts: T + 20, bid: 10.9, ask: 11.1 });
    c.release(["A"]);
    c.settle(["A"]);
    expect(c.drain()).toEqual([
      {
        symbol: "A",
        price: 11,
        ts: T + 20,
        size: 3,
        high: 10.5,
        low: 10.5,
        bid: 10.9,
        ask: 11.1,
        trades: 1,
        gap: true,
      },
    ]);
    // The gap went out: the next tick is a plain one.
    c.trade("A", 12, 1, T + 30);
    expect(c.drain()[0]?.gap).toBeUndefined();
    // A catch-up older than what the stream brought keeps the streamed price; a failed one still releases.
    c.hold(["A"]);
    c.catchUp({ symbol: "A", price: 9, ts: T + 5 });
    c.release(["A"]);
    c.settle(["A"]);
    expect(c.drain()).toEqual([{ symbol: "A", price: 12, ts: T + 30, trades: 0, gap: true }]);
    c.hold(["B"]);
    c.release(["B"]);
    expect(c.drain()).toEqual([]);
    // The catch-up's day volume goes with the gap tick, whatever the age of its price.
    c.hold(["A"]);
    c.catchUp({ symbol: "A", price: 9, ts: T + 5, dayVolume: 5_000 });
    c.release(["A"]);
    expect(c.drain()).toEqual([{ symbol: "A", price: 12, ts: T + 30, trades: 0, gap: true, dayVolume: 5_000 }]);
  });

  it("a catch-up's day figure counts trades up to its own time: the ones streamed after it are added, before and after it arrives", () => {
    const c = new Coalescer();
    c.trade("A", 10, 1, T);
    expect(c.drain()).toMatchObject([{ size: 1 }]);
    c.hold(["A"]);
    // Streamed since the outage: one the provider's figure counts (T + 10), one it predates (T + 20).
    c.trade("A", 11, 5, T + 10);
    c.trade("A", 12, 7, T + 20);
    expect(c.drain()).toEqual([]);
    c.catchUp({ symbol: "A", price: 11, ts: T + 10, dayVolume: 1_000 });
    c.trade("A", 13, 3, T + 30);
    c.release(["A"]);
    expect(c.drain()).toMatchObject([{ symbol: "A", price: 13, size: 15, dayVolume: 1_010, gap: true }]);
    // Its catch-up taken: the next window counts its sizes alone, a later figure adds nothing twice.
    c.trade("A", 14, 2, T + 40);
    c.catchUp({ symbol: "A", price: 14, ts: T + 40, dayVolume: 1_012 });
    expect(c.drain()).toMatchObject([{ size: 2, dayVolume: 1_012 }]);
  });

  it("orders a catch-up the most recently traded first; symbols never traded last", () => {
    const c = new Coalescer();
    c.trade("OLD", 1, 1, T);
    c.trade("NEW", 1, 1, T + 500);
    c.trade("MID", 1, 1, T + 100);
    expect(c.newestFirst(["QUIET", "OLD", "MID", "NEW"])).toEqual(["NEW", "MID", "OLD", "QUIET"]);
  });

  it("500 trades a second in 50 ms windows become 20 ticks a second, ending on the last trade", () => {
    const c = new Coalescer();
    const ticks: number[] = [];
    for (let i = 0; i < 500; i++) {
      c.trade("A", 100 + i / 100, 1, T + i * 2);
      if ((i * 2) % 50 === 48) ticks.push(...c.drain().map((q) => q.price));
    }
    ticks.push(...c.drain().map((q) => q.price));
    expect(ticks.length).toBeLessThanOrEqual(20);
    expect(ticks.at(-1)).toBe(104.99);
    expect([...ticks].sort((a, b) => a - b)).toEqual(ticks);
  });
});

describe("owed catch-ups", () => {
  it("asks each symbol's once the new connection serves it, the rest after the grace; nothing before it is live", () => {
    const asked: string[][] = [];
    const owed = new OwedCatchUps((symbols) => asked.push(symbols));
    owed.lost(["A", "B", "C"]);
    // Not live yet: a trade on the old connection (or none at all) asks nothing.
    owed.served(["A"]);
    owed.check(T + 60_000);
    expect(asked).toEqual([]);
    owed.live(T, true);
    owed.served(["A", "X"]);
    owed.served(["A"]);
    expect(asked).toEqual([["A"]]);
    expect(owed.nextDueAt()).toBe(T + 10_000);
    owed.check(T + 9_999);
    owed.check(T + 10_000);
    expect(asked).toEqual([["A"], ["B", "C"]]);
    expect(owed.nextDueAt()).toBeUndefined();
    // A provider that confirms nothing (its data is the confirmation): a second's grace.
    owed.lost(["D"]);
    owed.live(T, false);
    expect(owed.nextDueAt()).toBe(T + 1_000);
  });
});

describe("subscription set", () => {
  const open = () => true;
  const SILENCE = { tradedMs: 60_000, untradedMs: 2_000 };

  it("subscribes on the first viewer, unsubscribes only after lingering, and cancels a pending leave", () => {
    const s = new SubscriptionSet(10, 1_000, SILENCE);
    s.want(["A", "B"], 0);
    expect(s.plan(0)).toEqual({ subscribe: ["A", "B"], unsubscribe: [], overLimit: [] });
    s.want(["A"], 100);
    expect(s.plan(500)).toEqual({ subscribe: [], unsubscribe: [], overLimit: [] });
    expect(s.nextDueAt()).toBe(1_100);
    expect(s.plan(1_100)).toEqual({ subscribe: [], unsubscribe: ["B"], overLimit: [] });
    s.want([], 2_000);
    s.want(["A"], 2_500); // back before the linger ran out
    expect(s.plan(4_000)).toEqual({ subscribe: [], unsubscribe: [], overLimit: [] });
  });

  it("serves a symbol only once confirmed or traded; unconfirmed ones stay polled", () => {
    const s = new SubscriptionSet(10, 1_000, SILENCE);
    s.want(["A", "B", "C"], 0);
    s.plan(0);
    expect(s.served(1, open)).toEqual([]);
    expect(s.unconfirmed()).toEqual(["A", "B", "C"]);
    s.confirm(["A"], 10);
    s.confirm(["Z"], 10); // never asked for: nothing
    expect(s.served(20, open)).toEqual(["A"]);
    expect(s.unconfirmed()).toEqual(["B", "C"]);
  });

  it("a refusal that names no symbol applies to the unconfirmed ones; refused ones are not asked again while wanted", () => {
    const s = new SubscriptionSet(5, 1_000, SILENCE);
    s.want(["A", "B", "C"], 0);
    s.plan(0);
    s.confirm(["A"], 1);
    expect(s.refuse(s.unconfirmed())).toEqual(["B", "C"]);
    expect(s.plan(2)).toEqual({ subscribe: [], unsubscribe: [], overLimit: [] });
    expect(s.served(3, open)).toEqual(["A"]);
    s.reset();
    expect(s.plan(4).subscribe).toEqual(["A"]);
    s.want(["A"], 5);
    s.want(["A", "B"], 6);
    expect(s.plan(6).subscribe).toEqual(["B"]);
  });

  it("a served symbol silent too long while its market is open is polled too, until it trades again", () => {
    const s = new SubscriptionSet(5, 1_000, SILENCE);
    s.want(["A", "B"], 0);
    s.plan(0);
    // Confirmed, never traded: a provider that acknowledges what it will never stream.
    s.confirm(["A", "B"], 0);
    s.traded("B", 500);
    expect(s.served(1_999, open)).toEqual(["A", "B"]);
    expect(s.served(2_000, open)).toEqual(["B"]);
    // Its market closed: no trade is expected, nothing to poll.
    expect(s.served(2_000, () => false)).toEqual(["A", "B"]);
    expect(s.served(60_499, open)).toEqual(["B"]);
    expect(s.served(60_500, open)).toEqual([]);
    s.traded("A", 70_000);
    expect(s.served(70_001, open)).toEqual(["A"]);
    // A confirmation repeated (Alpaca's list after every subscribe) does not make a silent symbol fresh.
    s.confirm(["B"], 70_001);
    expect(s.served(70_002, open)).toEqual(["A"]);
  });

  it("a refused message's other symbols are asked for again; confirmed ones stay", () => {
    const s = new SubscriptionSet(5, 1_000, SILENCE);
    s.want(["A", "B", "C"], 0);
    s.plan(0);
    s.confirm(["A"], 1);
    expect(s.refuse(["B"])).toEqual(["B"]);
    expect(s.requeue(["A", "C"])).toEqual(["C"]);
    expect(s.plan(2)).toEqual({ subscribe: ["C"], unsubscribe: [], overLimit: [] });
    expect(s.unconfirmed()).toEqual(["C"]);
  });

  it("never holds more than its limit; the rest are polled until room frees up", () => {
    const s = new SubscriptionSet(2, 0, SILENCE);
    s.want(["A", "B", "C"], 0);
    expect(s.plan(0)).toEqual({ subscribe: ["A", "B"], unsubscribe: [], overLimit: ["C"] });
    s.want(["B", "C"], 1);
    expect(s.plan(1)).toEqual({ subscribe: ["C"], unsubscribe: ["A"], overLimit: [] });
    expect(s.size).toBe(2);
  });

  it("every scheduler shard's set, one union", () => {
    const w = new ShardWants();
    expect(w.told(1)).toBe(false);
    w.set(0, ["A", "B"]);
    w.set(1, ["C"]);
    w.set(0, ["B"]);
    expect([...w.union()].sort()).toEqual(["B", "C"]);
    expect(w.told(1)).toBe(true);
  });
});

describe("upstream link", () => {
  const options: LinkOptions = {
    baseBackoffMs: 1_000,
    maxBackoffMs: 30_000,
    healthyAfterMs: 30_000,
    silenceMs: 20_000,
    probeTimeoutMs: 10_000,
    connectTimeoutMs: 10_000,
    failedRetryMs: 300_000,
  };
  const quiet = { canProbe: false, marketOpen: false };
  const closed: StreamFault = { kind: "closed", reason: "1006" };

  it("connects, authenticates, goes live", () => {
    const link = new Link(options, () => 0.5);
    link.connecting(0);
    link.opened(10, false);
    expect(link.state).toEqual({ state: "authenticating", since: 10, attempt: 0 });
    link.ready(20);
    expect(link.state).toEqual({ state: "live", since: 20, attempt: 0, lastMessageAt: 20 });
  });

  it("a quiet connection it can probe is probed, and replaced only when the probe goes unanswered", () => {
    const link = new Link(options, () => 0.5);
    link.connecting(0);
    link.opened(0, true);
    link.heard(5_000);
    const probing = { canProbe: true, marketOpen: false };
    expect(link.check(24_999, probing)).toEqual({ do: "none" });
    expect(link.nextCheckAt()).toBe(25_000);
    expect(link.check(25_000, probing)).toEqual({ do: "probe" });
    link.probed(25_000);
    expect(link.nextCheckAt()).toBe(35_000);
    expect(link.check(34_999, probing)).toEqual({ do: "none" });
    // Answered: quiet but healthy, nothing to do until the next silence (the owner re-arms its timer).
    expect(link.heard(30_000)).toBe(true);
    expect(link.heard(30_000)).toBe(false);
    expect(link.nextCheckAt()).toBe(50_000);
    expect(link.check(50_000, probing)).toEqual({ do: "probe" });
    link.probed(50_000);
    expect(link.check(60_000, probing)).toMatchObject({ do: "replace", fault: { kind: "silent" } });
  });

  it("a quiet connection it cannot probe is replaced while a market is open; otherwise it sleeps a silence, never spins", () => {
    const link = new Link(options, () => 0.5);
    link.connecting(0);
    link.opened(0, true);
    expect(link.check(20_000, { canProbe: false, marketOpen: true })).toMatchObject({ do: "replace" });
    expect(link.check(20_000, quiet)).toEqual({ do: "none" });
    // The next look is a silence away, not in the past (a past check is a timer firing every 10 ms).
    expect(link.nextCheckAt()).toBe(40_000);
    let wakes = 0;
    for (let now = 20_000; now < 20_000 + 3_600_000; now = link.nextCheckAt()!) {
      link.check(now, quiet);
      wakes++;
    }
    expect(wakes).toBe(180); // one per silence over an hour
  });

  it("backs off from 1 s to 30 s with jitter; connections that open then close keep growing it", () => {
    const waits: number[] = [];
    const link = new Link(options, () => 1);
    let now = 0;
    link.connecting(now);
    for (let i = 0; i < 7; i++) {
      // Open, live for a moment, then closed: not healthy, the attempts keep counting.
      link.opened(now + 10, true);
      link.lost(closed, now + 100);
      const s = link.state;
      if (s.state !== "backoff") throw new Error("expected backoff");
      waits.push(s.until - (now + 100));
      expect(link.check(s.until - 1, quiet)).toEqual({ do: "none" });
      expect(link.check(s.until, quiet)).toEqual({ do: "connect" });
      now = s.until;
      link.connecting(now);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    const jittered = new Link(options, () => 0);
    jittered.connecting(0);
    jittered.lost(closed, 0);
    expect(jittered.state).toMatchObject({ until: 500 });
  });

  it("only a connection that stayed healthy a while starts the backoff over", () => {
    const link = new Link(options, () => 1);
    link.connecting(0);
    link.lost(closed, 0);
    link.connecting(1_000);
    link.lost(closed, 1_000);
    expect(link.state).toMatchObject({ attempt: 2 });
    link.connecting(3_000);
    link.opened(3_100, true);
    link.lost(closed, 3_100 + 30_000);
    expect(link.state).toMatchObject({ state: "backoff", attempt: 1, until: 33_100 + 1_000 });
  });

  it("an upstream closing every connection at once: at most 8 attempts in 30 s", () => {
    for (const r of [0, 0.5, 1]) {
      const link = new Link(options, () => r);
      let attempts = 0;
      let now = 0;
      while (now < 30_000) {
        link.connecting(now);
        attempts++;
        link.opened(now + 5, true);
        link.lost(closed, now + 5);
        now = link.nextCheckAt()!;
      }
      expect(attempts).toBeLessThanOrEqual(8);
    }
  });

  it("a connect or authentication that takes too long counts as a failed attempt", () => {
    const link = new Link(options, () => 1);
    link.connecting(0);
    expect(link.check(9_999, quiet)).toEqual({ do: "none" });
    const action = link.check(10_000, quiet);
    expect(action).toMatchObject({ do: "give-up", fault: { kind: "connect-failed" } });
    if (action.do === "give-up") link.lost(action.fault, 10_000);
    link.connecting(11_000);
    link.opened(11_000, false);
    const again = link.check(21_000, quiet);
    if (again.do === "give-up") link.lost(again.fault, 21_000);
    expect(link.state).toMatchObject({ state: "backoff", attempt: 2, until: 23_000 });
  });

  it("tells onReconnect each time it is live again, not the first time", () => {
    let told = 0;
    const link = new Link({ ...options, onReconnect: () => told++ }, () => 0.5);
    link.connecting(0);
    link.opened(10, true);
    expect(told).toBe(0);
    for (const at of [100, 5_000]) {
      link.lost(closed, at);
      link.connecting(at + 2_000);
      link.opened(at + 2_100, false);
      link.ready(at + 2_200);
    }
    expect(told).toBe(2);
    expect(link.reconnects).toBe(2);
  });

  it("a fatal fault waits its time (no sweep shortens it); idle forgets everything", () => {
    const link = new Link(options, () => 0.5);
    link.connecting(0);
    link.failed({ kind: "auth", reason: "402 auth failed" }, 50);
    expect(link.check(300_049, quiet)).toEqual({ do: "none" });
    expect(link.check(300_050, quiet)).toEqual({ do: "connect" });
    link.idle();
    expect(link.check(1e9, quiet)).toEqual({ do: "none" });
    expect(link.nextCheckAt()).toBeUndefined();
  });

  it("replaces the connection before the provider's scheduled disconnect", () => {
    const link = new Link({ ...options, maxConnectionMs: 86_400_000 }, () => 0.5);
    link.connecting(0);
    link.opened(0, true);
    link.heard(86_340_000 - 1);
    expect(link.check(86_340_000 - 1, quiet)).toEqual({ do: "none" });
    expect(link.check(86_340_000, quiet)).toMatchObject({ do: "replace", fault: { kind: "closed" } });
  });
});

describe("a cold symbol's first price", () => {
  const busy: Unavailable = { unavailable: "busy", reason: "no room" };

  it("comes from the stream when it is first, while REST is on its way; REST is asked once", async () => {
    const first = new FirstPrice<string>();
    let answer!: (v: string) => void;
    let asked = 0;
    const rest = () => {
      asked++;
      return new Promise<string>((r) => (answer = r));
    };
    const a = first.wait(rest);
    const b = first.wait(rest);
    first.arrived("streamed");
    expect(await a).toBe("streamed");
    expect(await b).toBe("streamed");
    expect(asked).toBe(1);
    answer("rest");
  });

  it("comes from REST when it is first; REST's refusal or failure is the answer", async () => {
    const first = new FirstPrice<string>();
    expect(await first.wait(async () => "rest")).toBe("rest");
    expect(await first.wait(async () => busy)).toEqual(busy);
    expect(await first.wait(() => Promise.reject(new Error("boom")))).toMatchObject({ unavailable: "upstream" });
    // A new cold spell asks again.
    expect(await first.wait(async () => "again")).toBe("again");
  });
});

describe("fault log", () => {
  it("says to log a fault once per kind, and its clearing once", () => {
    const log = new CurrentFault<StreamFault>();
    expect(log.note({ kind: "closed", reason: "1006" })).toBe(true);
    expect(log.note({ kind: "closed", reason: "1011" })).toBe(false);
    expect(log.current).toEqual({ kind: "closed", reason: "1011" });
    expect(log.note({ kind: "silent", reason: "x" })).toBe(true);
    expect(log.clear()).toEqual({ kind: "silent", reason: "x" });
    expect(log.clear()).toBeUndefined();
  });
});
