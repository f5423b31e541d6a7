/**
 * The bounds on what one client can cause: token buckets, the outbound budget that
 * conflates a connection sent more than its rate, linear-time symbol patterns, the
 * failed-credential throttle with and without a client address, releases of delayed data
 * counted from arrival, and the hub's connection registry (admission). Fake clock throughout.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FailureThrottle, Throttled } from "../../worker/auth/failure-throttle";
import { type GuardPort, SharedThrottle } from "../../worker/auth/shared-throttle";
import { TokenError } from "../../worker/auth/subscriber-token";
import { newSessionState, type Render, type SessionState } from "../../worker/broker/session-state";
import { Connection, type ConnectionCarrier } from "../../worker/connections/connection";
import { isSilent, nextSweepAt, noteHeard } from "../../worker/connections/liveness";
import { Connections } from "../../worker/connections/registry";
import { TokenBucket } from "../../worker/connections/token-bucket";
import { WriteBatcher } from "../../worker/connections/write-batcher";
import { isReleased } from "../../worker/market/delay";
import { globMatch, parseSymbolPolicy } from "../../worker/market/symbol-policy";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => vi.useRealTimers());

describe("TokenBucket", () => {
  it("refills at its rate up to its burst, refuses what it lacks, and goes into debt when charged", () => {
    const t0 = 1_000;
    const bucket = new TokenBucket(10, 20, t0);
    expect(bucket.take(20, t0)).toBe(true);
    expect(bucket.take(1, t0)).toBe(false);
    expect(bucket.available(t0 + 500)).toBe(5);
    expect(bucket.available(t0 + 60_000)).toBe(20); // never above the burst
    bucket.charge(50, t0 + 60_000);
    expect(bucket.available(t0 + 60_000)).toBe(-30);
    expect(bucket.readyAt(1, t0 + 60_000)).toBe(t0 + 60_000 + 3_100);
  });
});

describe("the outbound budget", () => {
  function connection(bytesPerSecond: number, byteBurst: number) {
    const writes: string[][] = [];
    const carrier: ConnectionCarrier = { write: (f) => writes.push([...f]), close: () => {}, save: () => {} };
    const limits = {
      inbound: { messagesPerSecond: 100, bytesPerSecond: 1 << 20, messageBurst: 100, byteBurst: 1 << 20 },
      outbound: { bytesPerSecond, byteBurst },
    };
    return { conn: new Connection("stomp-socket", carrier, new WriteBatcher(0), undefined, limits), writes };
  }
  const tick = (sub: string, n: number) => `MESSAGE\nsubscription:${sub}\nx-seq:${n}\n\n`.padEnd(100, ".");
  const skipped = (frame: string, count: number) => frame.replace("\n", `\nx-gap:true\nx-gap-count:${count}\n`);
  /** A MESSAGE as the write path gets it: rendered as it leaves, saying how many it replaced. */
  const queued =
    (frame: string): Render =>
    (count) =>
      count ? skipped(frame, count) : frame;

  it("sends everything while within it", async () => {
    const { conn, writes } = connection(10_000, 10_000);
    for (let n = 1; n <= 50; n++) conn.queue(queued(tick("a", n)), { key: "a" });
    await vi.advanceTimersByTimeAsync(0);
    expect(writes.flat()).toHaveLength(50);
  });

  it("past it keeps only the newest MESSAGE per subscription, marked with how many it replaced, sends each subscription's newest as the budget refills, and drops nothing else", async () => {
    const { conn, writes } = connection(1_000, 1_000); // ten 100-byte frames a second
    for (let n = 1; n <= 200; n++) for (const sub of ["a", "b", "c"]) conn.queue(queued(tick(sub, n)), { key: sub });
    await vi.advanceTimersByTimeAsync(0);
    const first = writes.flat();
    expect(first).toHaveLength(10); // the burst
    // Held back: one frame per subscription, the newest.
    await vi.advanceTimersByTimeAsync(2_000);
    const later = writes.flat().slice(first.length);
    // The burst took a1–a4, b1–b3, c1–c3: each later one held replaced all but the newest.
    expect(later.sort()).toEqual(
      [skipped(tick("a", 200), 195), skipped(tick("b", 200), 196), skipped(tick("c", 200), 196)].sort(),
    );
    // Within the budget again: frames flow as they come.
    await vi.advanceTimersByTimeAsync(5_000);
    conn.queue(queued(tick("a", 201)), { key: "a" });
    await vi.advanceTimersByTimeAsync(0);
    expect(writes.flat().at(-1)).toBe(tick("a", 201));
  });

  it("drops what it holds for a subscription that ended", async () => {
    const { conn, writes } = connection(1_000, 100);
    conn.queue(queued(tick("a", 1)), { key: "a" });
    conn.queue(queued(tick("a", 2)), { key: "a" });
    conn.discard({ key: "a" });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(writes.flat()).toEqual([tick("a", 1)]);
  });
});

describe("symbol patterns", () => {
  it("match * as any run of characters", () => {
    expect(globMatch("*-USD", "BTC-USD")).toBe(true);
    expect(globMatch("*-USD", "BTC-EUR")).toBe(false);
    expect(globMatch("^*", "^GSPC")).toBe(true);
    expect(globMatch("A*B*C", "AXXBYYC")).toBe(true);
    expect(globMatch("A*B*C", "AXXBYY")).toBe(false);
    expect(globMatch("AAPL", "AAPL")).toBe(true);
    expect(globMatch("AAPL", "AAPLX")).toBe(false);
    expect(globMatch("*", "")).toBe(true);
  });

  it("answer a pattern of sixteen stars against a sixteen-character symbol at once (a regular expression took seconds)", () => {
    const policy = parseSymbolPolicy("****************X,***************X");
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) expect(policy.allows("ABCDEFGHIJKLMNOP")).toBe(false);
    // A thousand checks: the worst case is |pattern| × |symbol| steps each.
    expect(performance.now() - started).toBeLessThan(500);
    expect(policy.allows("ABCDEFGHIJKLMNOX")).toBe(true);
  });
});

describe("the shared failure throttle", () => {
  const bad = () => Promise.reject(new TokenError("Invalid token: bad signature"));
  const good = () => Promise.resolve("grant");
  /** One guard for every check, as the credential guard object is. */
  const shared = (limit = 3) => {
    const throttle = new FailureThrottle(limit, 60_000);
    let now = 0;
    const calls: string[] = [];
    const port: GuardPort = {
      failed: async (address) => {
        calls.push(`fail ${address}`);
        return throttle.fail(address, now);
      },
      blockedFor: async (address) => {
        calls.push(`ask ${address}`);
        return throttle.blockedFor(address, now);
      },
    };
    const at = (t: number) => {
      now = t;
    };
    return { port, calls, at, throttle: () => new SharedThrottle(() => port) };
  };

  it("refuses an address that failed too often, even with a valid credential, until the window ends", async () => {
    const s = shared();
    const throttle = s.throttle();
    for (let i = 0; i < 3; i++)
      await expect(throttle.attempt("1.2.3.4", "guess", 0, bad)).rejects.toBeInstanceOf(TokenError);
    s.at(1_000);
    await expect(throttle.attempt("1.2.3.4", "right", 1_000, good)).rejects.toBeInstanceOf(Throttled);
    await expect(throttle.attempt("5.6.7.8", "right", 1_000, good)).resolves.toBe("grant");
    s.at(60_001);
    await expect(throttle.attempt("1.2.3.4", "right", 60_001, good)).resolves.toBe("grant");
  });

  it("adds up failures from every place that checks (the worker, each hub): one limit per address", async () => {
    const s = shared();
    const worker = s.throttle();
    const hubA = s.throttle();
    const hubB = s.throttle();
    await expect(worker.attempt("1.2.3.4", "g1", 0, bad)).rejects.toBeInstanceOf(TokenError);
    await expect(hubA.attempt("1.2.3.4", "g2", 0, bad)).rejects.toBeInstanceOf(TokenError);
    await expect(hubB.attempt("1.2.3.4", "g3", 0, bad)).rejects.toBeInstanceOf(TokenError);
    await expect(hubB.attempt("1.2.3.4", "g4", 0, bad)).rejects.toBeInstanceOf(Throttled);
    // A valid credential the others never saw is refused too: the answer tells a guesser nothing.
    await expect(hubA.attempt("1.2.3.4", "right", 0, good)).rejects.toBeInstanceOf(Throttled);
    await expect(worker.attempt("1.2.3.4", "right", 0, good)).rejects.toBeInstanceOf(Throttled);
  });

  it("asks the guard once per credential and address that passes, not on every check", async () => {
    const s = shared();
    const throttle = s.throttle();
    for (let i = 0; i < 5; i++) await expect(throttle.attempt("1.2.3.4", "right", i, good)).resolves.toBe("grant");
    expect(s.calls).toEqual(["ask 1.2.3.4"]);
    await throttle.attempt("1.2.3.4", "other", 6, good);
    await throttle.attempt("5.6.7.8", "right", 7, good);
    expect(s.calls).toHaveLength(3);
  });

  it("with no client address never refuses a valid credential (strangers cannot lock out the publisher), and throttles failures", async () => {
    const s = shared();
    const throttle = s.throttle();
    for (let i = 0; i < 2; i++) await expect(throttle.attempt("", "g", 0, bad)).rejects.toBeInstanceOf(TokenError);
    for (let i = 0; i < 2; i++) await expect(throttle.attempt("", "g", 1_000, bad)).rejects.toBeInstanceOf(Throttled);
    await expect(throttle.attempt("", "right", 1_000, good)).resolves.toBe("grant");
    expect(s.calls.filter((c) => c.startsWith("ask"))).toEqual([]);
  });
});

describe("delayed data", () => {
  it("is released by when the tick arrived here, whatever time it carries", () => {
    const arrived = 1_000_000;
    expect(isReleased(arrived, 5_000, arrived + 4_999)).toBe(false);
    expect(isReleased(arrived, 5_000, arrived + 5_000)).toBe(true);
  });
});

describe("Connections (the hub's registry)", () => {
  const conn = (kind: "stomp-socket" | "sockjs-http" = "stomp-socket") =>
    new Connection(kind, { write: () => {}, close: () => {}, save: () => {} }, new WriteBatcher(0));

  it("admits up to the hub's size and the per-address cap, and counts an address again once its connection goes", () => {
    const registry = new Connections<string>({ maxConnections: 4, maxPerAddress: 2 });
    registry.add("a1", conn(), "198.51.100.1");
    registry.add("a2", conn("sockjs-http"), "198.51.100.1");
    expect(registry.admit("198.51.100.1")).toBe("per-address");
    expect(registry.admit("198.51.100.2")).toBeUndefined();
    registry.add("b1", conn(), "198.51.100.2");
    registry.remove("a1");
    expect(registry.admit("198.51.100.1")).toBeUndefined();
    registry.add("a3", conn(), "198.51.100.1");
    registry.add("c1", conn(), "198.51.100.3");
    expect(registry.size).toBe(4);
    expect(registry.admit("198.51.100.9")).toBe("full");
    expect([...registry.entries()].map(([h]) => h)).toEqual(["a2", "b1", "a3", "c1"]);
  });

  it("never caps an unknown address (every client of a proxy-less self-host shares it)", () => {
    const registry = new Connections<number>({ maxConnections: 100, maxPerAddress: 2 });
    for (let i = 0; i < 50; i++) registry.add(i, conn());
    expect(registry.admit("")).toBeUndefined();
  });

  it("remembers a SockJS session refused while full until its refusal runs out", () => {
    const registry = new Connections<string>({ maxConnections: 1, maxPerAddress: 1 });
    registry.refuse("sess-1", 0);
    expect(registry.refused("sess-1", 599_999)).toBe(true);
    registry.sweep(600_000);
    expect(registry.refused("sess-1", 600_000)).toBe(false);
  });
});

describe("liveness", () => {
  const state = (period: number, seenAt?: number): SessionState => ({
    ...newSessionState("s"),
    heartbeat: [period, 0],
    ...(seenAt === undefined ? {} : { seenAt }),
  });

  it("calls a client silent two periods plus 2 s after it was last heard from, by heart-beat or by frame", () => {
    expect(isSilent(state(10_000, 0), 0, 22_000)).toBe(false);
    expect(isSilent(state(10_000, 0), 0, 22_001)).toBe(true);
    expect(isSilent(state(10_000, 0), 15_000, 37_000)).toBe(false); // a heart-beat answered by the runtime at 15 s
    expect(isSilent(state(10_000, 15_000), 0, 37_000)).toBe(false); // a frame at 15 s, kept across a wake
    expect(isSilent(state(0, 0), 0, 1e9)).toBe(false); // no heart-beats negotiated: never
  });

  it("saves when a client was heard from at most every half period", () => {
    const s = state(10_000, 0);
    expect(noteHeard(s, 4_000)).toBe(false);
    expect(noteHeard(s, 5_000)).toBe(true);
    expect(s.seenAt).toBe(5_000);
    expect(noteHeard(state(0), 5_000)).toBe(false);
  });

  it("sweeps while a socket needs it, every heart-beat period and at least a second apart; never for an idle hub", () => {
    const periods = { heartbeatMs: 10_000, sockjsHeartbeatMs: 25_000 };
    const socket = (kind: "stomp-socket" | "sockjs-socket", period: number) => {
      const c = new Connection(kind, { write: () => {}, close: () => {}, save: () => {} }, new WriteBatcher(0));
      c.session = { state: state(period) } as Connection["session"];
      return c;
    };
    expect(nextSweepAt([socket("stomp-socket", 0)], periods, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(nextSweepAt([socket("stomp-socket", 0), socket("stomp-socket", 10_000)], periods, 0)).toBe(10_000);
    expect(nextSweepAt([socket("sockjs-socket", 0)], { heartbeatMs: 0, sockjsHeartbeatMs: 500 }, 0)).toBe(1_000);
  });
});
