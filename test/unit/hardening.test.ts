/**
 * The pure parts of hardening round three, each on its own with a fake clock: what the
 * gate in front of every symbol's object says and remembers, the scheduler's book of real
 * symbols and its charged active set, the bounded fault log, retention, per-address request
 * rates, where a client's address may be read from, the attach refusals, and a bar read
 * that reads about `limit` rows however many the range holds.
 */
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { refusalError, shareKeyOf } from "../../worker/broker/refusal";
import { newSessionState } from "../../worker/broker/session-state";
import { AddressRates } from "../../worker/connections/address-rates";
import { RequestBudget } from "../../worker/feeds/budget";
import type { FeedProvider, QuoteResult } from "../../worker/feeds/provider";
import type { Admission } from "../../worker/feeds/unavailable";
import { type Bar, INTERVALS } from "../../worker/market/bars";
import { knownByConfig, SymbolGate } from "../../worker/market/known-symbols";
import { ActiveSet } from "../../worker/objects/scheduler/active-set";
import { catchUpPlan, firstThen, shardBudgets, updateIntervalMs } from "../../worker/objects/scheduler/budgets";
import { FaultLog, mergeFaultReports } from "../../worker/objects/scheduler/fault-log";
import { FirstQuotes } from "../../worker/objects/scheduler/first-quotes";
import { Puller } from "../../worker/objects/scheduler/puller";
import { BOOK_OPTIONS, SymbolBook } from "../../worker/objects/scheduler/symbol-book";
import { SourceBars } from "../../worker/objects/source/bars";
import { Retention } from "../../worker/objects/source/retention";
import { addressFrom, keyOf, parseTrustedProxy } from "../../worker/transports/trusted-proxy";

const SIM = { feedProvider: "sim", simAnySymbol: false };

describe("the known-symbol gate", () => {
  const gateWith = (answer: (symbol: string, ask: boolean) => Admission) => {
    const asked: string[] = [];
    let now = 0;
    const gate = new SymbolGate(
      SIM,
      async (symbol, ask) => {
        asked.push(`${symbol}${ask ? "" : "?"}`);
        return answer(symbol, ask);
      },
      () => now,
      { maxEntries: 3, knownTtlMs: 60_000, unknownTtlMs: 30_000 },
    );
    return {
      gate,
      asked,
      at: (t: number) => {
        now = t;
      },
    };
  };
  const unknown: Admission = { unavailable: "unknown", reason: "no such symbol" };

  it("knows the simulator's universe without asking anyone; SIM_UNIVERSE=any knows every symbol", async () => {
    const { gate, asked } = gateWith(() => unknown);
    expect(await gate.admit("AAPL")).toEqual({ known: true });
    expect(knownByConfig("QZZZZ", SIM)).toBe(false);
    expect(knownByConfig("QZZZZ", { ...SIM, simAnySymbol: true })).toBe(true);
    expect(knownByConfig("AAPL", { feedProvider: "finnhub", simAnySymbol: false })).toBe(false);
    expect(asked).toEqual([]);
  });

  it("asks the shard once per while: known for a minute, unknown for 30 s; never remembers busy", async () => {
    let busy = true;
    const { gate, asked, at } = gateWith((symbol) =>
      symbol === "PUB1"
        ? { known: true }
        : symbol === "SLOW"
          ? busy
            ? { unavailable: "busy", reason: "later", retryAfterMs: 100 }
            : { known: true }
          : unknown,
    );
    expect(await gate.admit("PUB1")).toEqual({ known: true });
    expect(await gate.admit("QX1")).toEqual(unknown);
    at(29_000);
    await gate.admit("PUB1");
    await gate.admit("QX1");
    expect(asked).toEqual(["PUB1", "QX1"]);
    at(31_000);
    await gate.admit("QX1");
    at(61_000);
    await gate.admit("PUB1");
    expect(asked).toEqual(["PUB1", "QX1", "QX1", "PUB1"]);
    expect((await gate.admit("SLOW")).valueOf()).toMatchObject({ unavailable: "busy" });
    busy = false;
    expect(await gate.admit("SLOW")).toEqual({ known: true });
  });

  it("does not remember a peek's no (something may make the symbol real), and is bounded", async () => {
    const { gate, asked } = gateWith(() => unknown);
    await gate.admit("QP", false);
    await gate.admit("QP", false);
    expect(asked).toEqual(["QP?", "QP?"]);
    for (const s of ["QA", "QB", "QC", "QD"]) await gate.admit(s);
    await gate.admit("QA"); // forgotten: the oldest of four went
    expect(asked.filter((a) => a === "QA")).toHaveLength(2);
  });
});

describe("the scheduler's book of real symbols", () => {
  const book = () =>
    new SymbolBook({
      unknownTtlMs: 1_000,
      maxUnknown: 2,
      stashTtlMs: 500,
      maxStash: 2,
      maxTrusted: 2,
      trustTtlMs: 1_000,
    });

  it("remembers symbols the provider does not know for a while, at most maxUnknown of them", () => {
    const b = book();
    b.rememberUnknown("QA", "no", 0);
    expect(b.refusal("QA", 999)).toEqual({ unavailable: "unknown", reason: "no" });
    expect(b.refusal("QA", 1_000)).toBeUndefined();
    b.rememberUnknown("QA", "no", 0);
    b.rememberUnknown("QB", "no", 0);
    b.rememberUnknown("QC", "no", 0);
    expect(b.refusal("QA", 1)).toBeUndefined();
    expect(b.refusal("QC", 1)).toBeDefined();
  });

  it("knows and forgets symbols, hands an admitting quote to its source once while fresh", () => {
    const b = book();
    b.load(["PUB1"]);
    expect(b.isKnown("PUB1")).toBe(true);
    expect(b.know("PUB1")).toBe(false);
    b.rememberUnknown("NEW1", "no", 0);
    expect(b.know("NEW1")).toBe(true);
    expect(b.refusal("NEW1", 1)).toBeUndefined();
    expect(b.forget("PUB1")).toBe(true);
    expect(b.isKnown("PUB1")).toBe(false);
    const quote = { symbol: "NEW1", price: 1, source: "x" };
    b.stash(quote, 0);
    expect(b.takeStashed("NEW1", 100)).toEqual(quote);
    expect(b.takeStashed("NEW1", 100)).toBeUndefined();
    b.stash(quote, 0);
    expect(b.takeStashed("NEW1", 500)).toBeUndefined();
  });
});

describe("a shard's first quotes", () => {
  const setup = (perMinute = 60, streamed = false) => {
    const asked: string[] = [];
    const known: string[] = [];
    const retired: string[] = [];
    const logs: string[] = [];
    let now = 0;
    const feed = {
      id: "fake",
      capabilities: {
        maxSymbolsPerRequest: 1,
        needsKey: false,
        assetClasses: [],
        minIntervalMs: 0,
        requestsPerMinute: 60,
      },
      quotes: async (requests: readonly { symbol: string }[]): Promise<QuoteResult[]> =>
        requests.map(({ symbol }) => {
          asked.push(symbol);
          if (symbol.startsWith("Q")) return { symbol, fault: { kind: "unknown-symbol", reason: "no such ticker" } };
          if (symbol === "DOWN") return { symbol, fault: { kind: "timeout", reason: "slow" } };
          return { symbol, quote: { symbol, price: 10, source: "fake" } };
        }),
    } satisfies FeedProvider;
    const first = new FirstQuotes({
      feed,
      coldBudget: new RequestBudget(perMinute, 1, 0, 2),
      book: new SymbolBook(),
      faults: new FaultLog(),
      counts: undefined,
      waits: {
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      },
      streamed,
      retire: async (symbol) => void retired.push(symbol),
      know: async (symbol) => void known.push(symbol),
      log: (event, fields) => void logs.push(`${event} ${String(fields.kind)}`),
    });
    const advance = (ms: number) => {
      now += ms;
    };
    return { first, asked, known, retired, logs, advance };
  };

  it("admits a symbol the provider quotes, keeps that quote for its source's first ask, and marks it known", async () => {
    const { first, asked, known } = setup();
    expect(await first.admit("AAPL", false, true)).toEqual({ known: true });
    expect(await first.first("AAPL")).toEqual({ quote: { symbol: "AAPL", price: 10, source: "fake" } });
    expect(asked).toEqual(["AAPL"]);
    expect(known).toEqual(["AAPL"]);
    expect(await first.admit("MSFT", true, true)).toEqual({ known: true });
    expect(await first.admit("MSFT", false, false)).toMatchObject({ unavailable: "unknown" });
    expect(asked).toEqual(["AAPL"]);
  });

  it("refuses a symbol the provider does not know from memory after the first time, and logs once", async () => {
    const { first, asked, logs } = setup();
    expect(await first.admit("QX1", false, true)).toEqual({
      unavailable: "unknown",
      reason: "no price for QX1: unknown-symbol: no such ticker",
    });
    expect(await first.admit("QX1", false, true)).toMatchObject({ unavailable: "unknown" });
    await first.admit("QX2", false, true);
    expect(asked).toEqual(["QX1", "QX2"]);
    expect(logs).toEqual(["feed_fault unknown-symbol"]);
    expect(await first.admit("DOWN", false, true)).toMatchObject({ unavailable: "upstream" });
  });

  it("answers busy, with when to ask again, once the first quotes' budget is spent", async () => {
    const { first } = setup(1);
    await first.admit("A1", false, true);
    const busy = await first.admit("A2", false, true);
    expect(busy).toMatchObject({ unavailable: "busy" });
    expect((busy as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(5_000);
  });

  it("streamed: admits a viewer's symbol on trust when the budget is spent; a price makes it known, a refusal retires it", async () => {
    const { first, asked, known, retired } = setup(1, true);
    await first.admit("A1", false, true, true);
    // No room: not a 5 s wait and a refusal, but a trusted admission (only for a viewer, only while streaming).
    expect(await first.admit("A2", false, true, true)).toEqual({ known: true });
    expect(await first.admit("QZ", false, true, true)).toEqual({ known: true });
    expect(await first.admit("A3", false, true)).toMatchObject({ unavailable: "busy" });
    expect(asked).toEqual(["A1"]);
    // A round's news: A2 has a price (streamed), QZ's poll says no such symbol.
    expect(await first.settle("A2", true, undefined)).toBe(false);
    expect(known).toEqual(["A1", "A2"]);
    expect(await first.settle("QZ", false, { kind: "timeout", reason: "slow" })).toBe(false);
    expect(await first.settle("QZ", false, { kind: "unknown-symbol", reason: "no such ticker" })).toBe(true);
    expect(retired).toEqual(["QZ"]);
    expect(await first.admit("QZ", false, true, true)).toMatchObject({ unavailable: "unknown" });
    // Settled symbols are trusted no more; symbols never trusted are not settled.
    expect(await first.settle("A2", false, { kind: "unknown-symbol", reason: "no" })).toBe(false);
    expect(await first.settle("A1", false, { kind: "unknown-symbol", reason: "no" })).toBe(false);
  });

  it("streamed: symbols on trust nothing priced or polled are looked up once the budget has room", async () => {
    const { first, asked, known, retired, advance } = setup(1, true);
    await first.admit("A1", false, true, true);
    expect(await first.admit("B2", false, true, true)).toEqual({ known: true });
    expect(await first.admit("QY", false, true, true)).toEqual({ known: true });
    await first.lookUpTrusted();
    expect(asked).toEqual(["A1"]); // no room yet
    advance(60_000);
    await first.lookUpTrusted(); // room for one look-up: B2 is quoted, so known
    expect(asked).toEqual(["A1", "B2"]);
    expect(known).toEqual(["A1", "B2"]);
    advance(60_000);
    await first.lookUpTrusted(); // QY: no such symbol, retired
    expect(retired).toEqual(["QY"]);
    advance(60_000);
    await first.lookUpTrusted(); // nothing on trust any more
    expect(asked).toEqual(["A1", "B2", "QY"]);
  });
});

describe("a round's polls", () => {
  it("leave out streamed symbols once a provider quote answered them, and keep the rest", () => {
    const feed = { id: "fake" } as FeedProvider;
    const puller = new Puller({ feed, faults: new FaultLog(), latestKnown: async () => undefined, log: () => {} });
    puller.note({ symbol: "QUOTED", quote: { symbol: "QUOTED", price: 1, source: "fake" } }, 0);
    puller.note({ symbol: "FAILED", fault: { kind: "timeout", reason: "slow" } }, 0);
    const symbols = ["QUOTED", "FAILED", "TRADED", "POLLED"];
    expect(puller.toPoll(symbols, new Set(["QUOTED", "FAILED", "TRADED"]))).toEqual({
      unquoted: ["FAILED", "TRADED"],
      polled: ["POLLED"],
    });
    expect(puller.toPoll(symbols, new Set())).toEqual({ unquoted: [], polled: symbols });
    puller.forget("QUOTED");
    expect(puller.toPoll(["QUOTED"], new Set(["QUOTED"]))).toEqual({ unquoted: ["QUOTED"], polled: [] });
  });

  it("serve streamed newcomers before the polled symbols' turns", () => {
    const budget = new RequestBudget(60, 1, 0, 1);
    expect(firstThen(budget, ["NEW"], ["P1", "P2"], 0)).toEqual({ symbols: ["NEW"], requests: 1, limited: true });
    expect(firstThen(budget, [], ["P1", "P2"], 1_000)).toEqual({ symbols: ["P1"], requests: 1, limited: true });
  });
});

describe("symbols admitted on trust", () => {
  it("are bounded (expired ones make room) and settled once", () => {
    const b = new SymbolBook({ ...BOOK_OPTIONS, maxTrusted: 2, trustTtlMs: 1_000 });
    expect(b.trust("A", 0)).toBe(true);
    expect(b.trust("B", 500)).toBe(true);
    expect(b.trust("C", 600)).toBe(false);
    expect(b.trust("A", 600)).toBe(true);
    expect(b.trust("C", 1_500)).toBe(true);
    expect(b.isTrusted("B")).toBe(false);
    expect(b.isTrusted("C", true)).toBe(true);
    expect(b.isTrusted("C")).toBe(false);
  });
});

describe("the active set and its shares", () => {
  it("charges a new symbol to whoever brought it in, refuses past the share or the cap, and frees both on leaving", () => {
    const set = new ActiveSet({ total: 4, perHolder: 2 });
    expect(set.activate("A", "1.1.1.1", 0).outcome).toBe("ok");
    expect(set.activate("B", "1.1.1.1", 0).outcome).toBe("ok");
    expect(set.activate("C", "1.1.1.1", 0)).toEqual({ outcome: "share" });
    // Already active: costs nobody anything.
    expect(set.activate("A", "2.2.2.2", 0)).toEqual({ outcome: "ok" });
    expect(set.heldBy("2.2.2.2")).toBe(0);
    expect(set.activate("C", "2.2.2.2", 0).entry).toEqual({ at: 0, by: "2.2.2.2" });
    expect(set.activate("D", undefined, 0).entry).toEqual({ at: 0 });
    expect(set.activate("E", "3.3.3.3", 0)).toEqual({ outcome: "full" });
    expect(set.deactivate("A")).toBe(true);
    expect(set.activate("E", "1.1.1.1", 0).outcome).toBe("ok");
    expect(set.deactivate("nope")).toBe(false);
  });

  it("loads what older versions stored (a time only) and what this one stores", () => {
    const set = new ActiveSet({ total: 10, perHolder: 1 });
    set.load([
      ["OLD", 5],
      ["NEW", { at: 6, by: "1.1.1.1" }],
    ]);
    expect(set.symbols()).toEqual(["OLD", "NEW"]);
    expect(set.activate("X", "1.1.1.1", 7)).toEqual({ outcome: "share" });
  });
});

describe("the fault log", () => {
  const f = (kind: "unknown-symbol" | "auth" | "timeout", reason = kind) => ({ kind, reason });

  it("keeps the newest few of each kind, so a flood of one kind hides no other, and counts them all", () => {
    const log = new FaultLog(3);
    log.pulled("AAPL", f("auth"), 1);
    for (let i = 0; i < 300; i++) log.lookedUp(`Q${i}`, f("unknown-symbol"), 10 + i);
    const report = log.report();
    expect(report.recent).toHaveLength(4);
    expect(report.recent.filter((e) => e.kind === "unknown-symbol").map((e) => e.symbol)).toEqual([
      "Q299",
      "Q298",
      "Q297",
    ]);
    expect(report.recent.find((e) => e.kind === "auth")?.symbol).toBe("AAPL");
    expect(report.counts).toEqual({ auth: 1, "unknown-symbol": 300 });
  });

  it("says when a pulled symbol's fault appears, changes and clears: once, not every round", () => {
    const log = new FaultLog();
    expect(log.pulled("KO", f("timeout"), 1)).toBe("raised");
    expect(log.pulled("KO", f("timeout"), 2)).toBeUndefined();
    expect(log.pulled("KO", f("auth"), 3)).toBe("raised");
    expect(log.faultOf("KO")?.kind).toBe("auth");
    expect(log.pulled("KO", undefined, 4)).toBe("cleared");
    expect(log.pulled("KO", undefined, 5)).toBeUndefined();
    expect(log.faultOf("KO")).toBeUndefined();
    // Look-ups: one line when their kind changes.
    expect(log.lookedUp("Q1", f("unknown-symbol"), 6)).toBe("raised");
    expect(log.lookedUp("Q2", f("unknown-symbol"), 7)).toBeUndefined();
    log.pulled("GONE", f("timeout"), 8);
    log.forget("GONE");
    expect(log.faultOf("GONE")).toBeUndefined();
  });

  it("pools shards' reports, still bounded", () => {
    const a = new FaultLog(2);
    const b = new FaultLog(2);
    for (let i = 0; i < 5; i++) a.lookedUp(`A${i}`, f("unknown-symbol"), i);
    for (let i = 0; i < 5; i++) b.lookedUp(`B${i}`, f("unknown-symbol"), 10 + i);
    const merged = mergeFaultReports([a.report(), b.report()], 2);
    expect(merged.recent.map((e) => e.symbol)).toEqual(["B4", "B3"]);
    expect(merged.counts).toEqual({ "unknown-symbol": 10 });
  });
});

describe("retention", () => {
  const DAY = 86_400_000;

  it("pushes the alarm out on use, re-arming at most once per 1/30 of the period", () => {
    const r = new Retention(30 * DAY);
    expect(r.used(0)).toBe(31 * DAY);
    expect(r.used(DAY - 1)).toBeUndefined();
    expect(r.used(DAY + 1)).toBe(32 * DAY + 1);
  });

  it("deletes when the alarm finds nobody holding the symbol, and keeps (re-arming) one that is held", () => {
    const r = new Retention(30 * DAY);
    r.used(0);
    expect(r.due(31 * DAY, true)).toEqual({ rearmAt: 62 * DAY });
    expect(r.due(62 * DAY, false)).toEqual({ delete: true });
  });
});

describe("per-address request rates", () => {
  it("lets a burst through, then answers when the next request may come; each address on its own; bounded", () => {
    const rates = new AddressRates(2, 4, 2);
    for (let i = 0; i < 4; i++) expect(rates.take("1.1.1.1", 0)).toBe(0);
    expect(rates.take("1.1.1.1", 0)).toBe(500);
    expect(rates.take("2.2.2.2", 0)).toBe(0);
    expect(rates.take("1.1.1.1", 500)).toBe(0);
    rates.take("3.3.3.3", 500); // the oldest address (2.2.2.2) is forgotten: it starts full again
    for (let i = 0; i < 4; i++) expect(rates.take("2.2.2.2", 500)).toBe(0);
  });
});

describe("where a client's address comes from", () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it("reads CF-Connecting-IP only where the edge set request.cf, nothing on bare workerd without a proxy", () => {
    const cloudflare = parseTrustedProxy(undefined, false);
    expect(addressFrom(cloudflare, headers({ "CF-Connecting-IP": "203.0.113.9" }), { colo: "AMS" })).toBe(
      "203.0.113.9",
    );
    expect(addressFrom(cloudflare, headers({ "CF-Connecting-IP": "203.0.113.9" }), undefined)).toBe("");
    const selfHosted = parseTrustedProxy("", true);
    expect(addressFrom(selfHosted, headers({ "CF-Connecting-IP": "203.0.113.9" }), { colo: "AMS" })).toBe("");
  });

  it("behind a named proxy: its header, read from the right past the proxy's own hops", () => {
    const rule = parseTrustedProxy("X-Forwarded-For from 127.0.0.1, 10.0.0.0/8", true);
    const from = (xff: string) => addressFrom(rule, headers({ "X-Forwarded-For": xff }), undefined);
    expect(from("198.51.100.7")).toBe("198.51.100.7");
    // A client's own X-Forwarded-For is to the left of what the proxies appended.
    expect(from("6.6.6.6, 198.51.100.7, 10.1.2.3")).toBe("198.51.100.7");
    expect(from("10.0.0.1, 127.0.0.1")).toBe("10.0.0.1");
    expect(from("not-an-address, 10.0.0.1")).toBe("10.0.0.1");
    expect(from("")).toBe("");
    const single = parseTrustedProxy("X-Real-IP", true);
    expect(addressFrom(single, headers({ "X-Real-IP": "2001:db8:1:2:3:4:5:6" }), undefined)).toBe("2001:db8:1:2::/64");
    expect(addressFrom(single, headers({}), undefined)).toBe("");
  });

  it("counts an IPv6 address as its /64 and refuses anything that is no address", () => {
    expect(keyOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(keyOf("2001:db8::ffff:1")).toBe(keyOf("2001:db8::2"));
    expect(keyOf("::ffff:192.0.2.1")).toBe("0:0:0:0::/64");
    expect(keyOf("192.0.2.256")).toBe("");
    expect(keyOf("1:2:3:4:5:6:7:8:9")).toBe("");
    expect(keyOf("<script>")).toBe("");
  });

  it("fails loudly on a setting it cannot read, naming the variable", () => {
    expect(() => parseTrustedProxy("X-Forwarded-For from 10.0.0.0/33", false)).toThrow(/config TRUSTED_PROXY=/);
    expect(() => parseTrustedProxy("two words", false)).toThrow(/config TRUSTED_PROXY=/);
  });
});

describe("attach refusals", () => {
  it("are ERRORs with a stable code: no price for a symbol the feed has none of, no room past a share", () => {
    expect(refusalError("QX", { refused: "unknown", reason: "not a symbol" })).toMatchObject({
      code: "no-price",
      message: "No price for QX",
      details: "not a symbol",
    });
    expect(refusalError("QX", { refused: "share", reason: "share" })).toMatchObject({
      code: "too-many-active-symbols",
      closeCode: 1008,
    });
  });

  it("charge a connection's address, the connection itself when none is known, and never a publisher", () => {
    expect(shareKeyOf(newSessionState("s1", "1.2.3.4"))).toBe("1.2.3.4");
    expect(shareKeyOf(newSessionState("s1"))).toBe("session:s1");
    expect(shareKeyOf({ ...newSessionState("s1", "1.2.3.4"), grant: { realtime: true, publisher: true } })).toBe(
      undefined,
    );
  });
});

describe("budgets", () => {
  it("keep a quarter for new symbols, and space updates when the rounds' share cannot cover every symbol", () => {
    const b = shardBudgets(60, 1, 1, 0);
    expect(b.requestsPerMinute).toBe(60);
    expect(b.symbolsPerMinute).toBe(45);
    expect(updateIntervalMs(1_000, false, 90, b.symbolsPerMinute)).toBe(1_000);
    expect(updateIntervalMs(1_000, true, 90, b.symbolsPerMinute)).toBe(120_000);
  });

  it("serve a catch-up before the rounds: the rounds keep one request for it until it asks again", () => {
    const b = shardBudgets(60, 1, 1, 0);
    // The rounds spent the minute's share, the new symbols' share is spent too.
    while (b.rounds.plan(["P"], 0).requests > 0);
    while (b.cold.take(1, 0));
    expect(catchUpPlan(b, ["A", "B"], 0)).toEqual([]);
    // Tokens come back (45 a minute): the rounds leave the first to the catch-up, in its order.
    expect(b.rounds.plan(["P"], 1_500).requests).toBe(0);
    expect(catchUpPlan(b, ["A", "B"], 1_500)).toEqual(["A"]);
    expect(b.rounds.plan(["P"], 2_000).requests).toBe(0);
    expect(catchUpPlan(b, ["B"], 3_000)).toEqual(["B"]);
    expect(b.rounds.plan(["P"], 4_500).symbols).toEqual(["P"]);
  });
});

/** SQLite through Node, shaped like a Durable Object's `ctx.storage.sql`, counting the rows each SELECT returns. */
function countingSql(): { sql: SqlStorage; rowsRead: () => number } {
  const db = new DatabaseSync(":memory:");
  let read = 0;
  const sql = {
    exec(query: string, ...bindings: Array<string | number>) {
      const statement = db.prepare(query);
      if (!/^\s*(SELECT|PRAGMA)/i.test(query)) {
        statement.run(...bindings);
        return { toArray: () => [] };
      }
      const rows = statement.all(...bindings);
      read += rows.length;
      return { toArray: () => rows };
    },
  };
  return { sql: sql as unknown as SqlStorage, rowsRead: () => read };
}

describe("a bar read", () => {
  const DAYS = 5;
  /** Five 24/7 days of one-minute BTC-USD bars ending at `end`. */
  const minutes = (end: number): Bar[] =>
    Array.from({ length: DAYS * 1_440 }, (_, i) => {
      const t = end - (DAYS * 1_440 - i) * 60_000;
      return { t, o: 1 + i, h: 2 + i, l: 0.5 + i, c: 1.5 + i, v: 10, n: 1 };
    });
  const NOW = Date.parse("2026-12-04T15:00:30Z");
  const END = Date.parse("2026-12-04T15:01:00Z");

  it("reads about `limit` bars' worth of rows, whatever the range holds, and answers as a full read would", () => {
    const { sql, rowsRead } = countingSql();
    const bars = new SourceBars(sql, "BTC-USD", DAYS, () => undefined, undefined);
    bars.put(minutes(END));
    const full = (() => {
      const { sql: s2 } = countingSql();
      const all = new SourceBars(s2, "BTC-USD", DAYS, () => undefined, undefined);
      all.put(minutes(END));
      return all;
    })();
    for (const interval of INTERVALS) {
      for (const limit of [1, 3, 10]) {
        for (const visibleAt of [NOW, NOW - 15 * 60_000]) {
          const before = rowsRead();
          const read = bars.read(interval, 0, Number.MAX_SAFE_INTEGER, limit, NOW, visibleAt);
          const rows = rowsRead() - before;
          const perBar = { "1m": 1, "5m": 5, "15m": 15, "1h": 60, "1d": 1_500 }[interval];
          // The bars SELECT (at most limit + 2 bars' worth) and the newest-bar look-up (one row).
          expect(rows, `${interval} limit ${limit}`).toBeLessThanOrEqual((limit + 2) * perBar + 1);
          // The same answer as reading the whole range (a read with a limit no range reaches).
          const whole = full.read(interval, 0, Number.MAX_SAFE_INTEGER, 100_000, NOW, visibleAt);
          expect(read.bars, `${interval} limit ${limit} visibleAt ${visibleAt}`).toEqual(whole.bars.slice(-limit));
        }
      }
    }
    // limit=1 of a 7,200-row history: a handful of rows, not all of them.
    const before = rowsRead();
    bars.read("1m", 0, Number.MAX_SAFE_INTEGER, 1, NOW, NOW);
    expect(rowsRead() - before).toBeLessThanOrEqual(4);
  });
});
