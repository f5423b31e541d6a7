/**
 * The hub's broker logic, the STOMP session and the subscription index, with fake
 * transports and a fake upstream: no runtime, no I/O.
 */
import { describe, expect, it } from "vitest";
import type { Grant } from "../../worker/auth/grant";
import { TokenError } from "../../worker/auth/subscriber-token";
import { HubBroker } from "../../worker/broker/hub-broker";
import type { Sources } from "../../worker/broker/hub-ports";
import {
  newSessionState,
  type Render,
  type SessionTransport,
  type Subscription,
} from "../../worker/broker/session-state";
import { type SessionBroker, StompSession } from "../../worker/broker/stomp-session";
import { buildTickFrame, type StreamFrame } from "../../worker/broker/stream-frame";
import type { Stream } from "../../worker/broker/streams";
import { SubscriptionIndex } from "../../worker/broker/subscription-index";
import type { Quote, Tick } from "../../worker/market/tick";
import { FrameDecoder } from "../../worker/protocol/stomp/decoder";
import { type Frame, header } from "../../worker/protocol/stomp/frame";
import { authenticateSecret, SESSION_LIMITS } from "../support/session-limits";

const LIMITS = { ...SESSION_LIMITS, maxSubscriptions: 3, heartbeatMs: 10_000 };

/** Records what a session writes, decoded back into frames. */
class FakeTransport implements SessionTransport {
  readonly written: string[] = [];
  closed?: { code: number; reason: string };
  saves = 0;
  send(text: string): void {
    this.written.push(text);
  }
  queue(render: Render): void {
    this.written.push(render(0));
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  discard(): void {}
  save(): void {
    this.saves++;
  }
  frames(): Frame[] {
    const decoder = new FrameDecoder({
      maxFrameBytes: 1 << 20,
      commands: new Set(["CONNECTED", "MESSAGE", "RECEIPT", "ERROR"]),
    });
    return decoder.push(this.written.join(""));
  }
}

function tick(symbol: string, seq: number, price = 100 + seq): Tick {
  return { symbol, seq, price, ts: 1_700_000_000_000 + seq, source: "test", change: 0, changePercent: 0 };
}

const EPOCH = "ep1";
const frame = (symbol: string, seq: number): StreamFrame => buildTickFrame(tick(symbol, seq), EPOCH);

/** A source per symbol in memory; counts what the hub asks of it. */
class FakeSources implements Sources {
  readonly history = new Map<string, StreamFrame[]>();
  readonly attaches: Array<[string, number]> = [];
  readonly interests: Array<[string, number]> = [];
  readonly ranges: Array<[string, number, number]> = [];
  readonly published: Quote[] = [];
  gate: Promise<void> = Promise.resolve();
  rangeGate: Promise<void> = Promise.resolve();

  ticks(symbol: string, upTo: number): void {
    this.history.set(
      symbol,
      Array.from({ length: upTo }, (_, i) => frame(symbol, i + 1)),
    );
  }
  async attach(stream: Stream, count: number): Promise<StreamFrame> {
    const symbol = stream.symbol;
    this.attaches.push([symbol, count]);
    await this.gate;
    const known = this.history.get(symbol);
    if (!known?.length) throw new Error(`unknown symbol ${symbol}`);
    return known.at(-1)!;
  }
  async interest(stream: Stream, count: number): Promise<void> {
    this.interests.push([stream.symbol, count]);
  }
  async range(stream: Stream, after: number, before: number, limit: number): Promise<StreamFrame[]> {
    const symbol = stream.symbol;
    this.ranges.push([symbol, after, before]);
    await this.rangeGate;
    return (this.history.get(symbol) ?? []).filter((f) => f.seq > after && f.seq < before).slice(0, limit);
  }
  async publish(quote: Quote): Promise<void> {
    this.published.push(quote);
  }
}

/** Timers the test fires by hand. */
class ManualTimers {
  private pending: Array<() => void> = [];
  later(fn: () => void): void {
    this.pending.push(fn);
  }
  async fire(): Promise<void> {
    const due = this.pending;
    this.pending = [];
    for (const fn of due) fn();
    await settle();
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0));

function session(
  broker: SessionBroker,
  transport = new FakeTransport(),
  limits = LIMITS,
): { s: StompSession; t: FakeTransport } {
  return {
    s: new StompSession(newSessionState("sess-1"), transport, broker, limits, authenticateSecret),
    t: transport,
  };
}

async function connected(
  broker: SessionBroker,
  extra = "",
  limits = LIMITS,
): Promise<{ s: StompSession; t: FakeTransport }> {
  const pair = session(broker, new FakeTransport(), limits);
  await pair.s.receive(`CONNECT\naccept-version:1.1,1.2\nhost:x\n${extra}\n\0`);
  return pair;
}

function messages(t: FakeTransport, subscription?: string): Array<{ seq: number; subscription: string }> {
  return t
    .frames()
    .filter(
      (f) => f.command === "MESSAGE" && (subscription === undefined || header(f, "subscription") === subscription),
    )
    .map((f) => ({
      seq: (JSON.parse(new TextDecoder().decode(f.body)) as Tick).seq,
      subscription: header(f, "subscription")!,
    }));
}

describe("StompSession", () => {
  const broker: SessionBroker = {
    subscribe: async () => {},
    unsubscribe: async () => {},
    publish: async () => {},
  };

  it("negotiates the highest common version and heart-beats, and saves its state", async () => {
    const { s, t } = await connected(broker, "heart-beat:4000,5000\n");
    const [c] = t.frames();
    expect(c!.command).toBe("CONNECTED");
    expect(header(c!, "version")).toBe("1.2");
    expect(header(c!, "heart-beat")).toBe("10000,10000");
    expect(s.state.heartbeat).toEqual([10_000, 10_000]);
    expect(t.saves).toBeGreaterThan(0);
  });

  it("answers a frame before CONNECT with an ERROR and closes", async () => {
    const { t } = session(broker);
    const { s } = { s: new StompSession(newSessionState("x"), t, broker, LIMITS, authenticateSecret) };
    await s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.AAPL\n\n\0");
    const [e] = t.frames();
    expect(e!.command).toBe("ERROR");
    expect(header(e!, "message")).toBe("Not connected");
    expect(header(e!, "x-error-code")).toBe("not-connected");
    expect(t.closed?.code).toBe(1002);
    expect(s.closed).toBe(true);
  });

  it("refuses duplicate ids, too many subscriptions and SEND without credentials, each with a reason", async () => {
    for (const [frames, message, code, closeCode] of [
      [
        ["SUBSCRIBE\nid:1\ndestination:/topic/ticker.A\n\n\0", "SUBSCRIBE\nid:1\ndestination:/topic/ticker.B\n\n\0"],
        "Duplicate subscription id",
        "duplicate-subscription-id",
        1002,
      ],
      [
        [1, 2, 3, 4].map((i) => `SUBSCRIBE\nid:${i}\ndestination:/topic/ticker.A\n\n\0`),
        "Too many subscriptions",
        "too-many-subscriptions",
        1008,
      ],
      [['SEND\ndestination:/topic/ticker.A\n\n{"price":1}\0'], "Not authorized to publish", "not-publisher", 1008],
      [["SUBSCRIBE\nid:1\ndestination:/queue/x\n\n\0"], "Unknown destination", "unknown-destination", 1002],
      [["SUBSCRIBE\ndestination:/topic/ticker.A\n\n\0"], "Missing header: id", "missing-header", 1002],
    ] as const) {
      const { s, t } = await connected(broker);
      for (const f of frames) await s.receive(f);
      const error = t.frames().find((f) => f.command === "ERROR");
      expect(error && header(error, "message"), message).toBe(message);
      expect(error && header(error, "x-error-code"), message).toBe(code);
      expect(t.closed?.code).toBe(closeCode);
    }
  });

  it("counts STOMP frames, not transport messages: a message of many frames past the burst gets 'Too many frames'", async () => {
    const limits = { ...LIMITS, inbound: { framesPerSecond: 5, frameBurst: 10 } };
    const { s, t } = session(broker, new FakeTransport(), limits);
    const sub = (i: number) => `SUBSCRIBE\nid:${i}\ndestination:/topic/ticker.AAPL\n\n\0UNSUBSCRIBE\nid:${i}\n\n\0`;
    // CONNECT and four pairs fit in the burst of 10; the fifth pair does not.
    await s.receive(`CONNECT\naccept-version:1.2\n\n\0${[1, 2, 3, 4, 5, 6].map(sub).join("")}`);
    const error = t.frames().find((f) => f.command === "ERROR")!;
    expect(header(error, "message")).toBe("Too many frames");
    expect(t.closed?.code).toBe(1008);
    expect(s.closed).toBe(true);
  });

  it("sends RECEIPTs and closes on DISCONNECT", async () => {
    const { t, s } = await connected(broker);
    await s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.A\nreceipt:r1\n\n\0");
    await s.receive("DISCONNECT\nreceipt:bye\n\n\0");
    expect(
      t
        .frames()
        .filter((f) => f.command === "RECEIPT")
        .map((f) => header(f, "receipt-id")),
    ).toEqual(["r1", "bye"]);
    expect(t.closed?.code).toBe(1000);
  });
});

describe("StompSession credentials and entitlements", () => {
  const DELAYED = { ...LIMITS, maxSubscriptions: 5, auth: { mode: "token" as const, publicDelayMs: 900_000 } };
  const grants: Record<string, Grant> = {
    live: { subject: "u1", realtime: true, publisher: false, expiresAt: Date.now() + 60_000 },
    public: {
      subject: "u1",
      realtime: false,
      publisher: false,
      symbols: ["AAPL", "*-USD"],
      expiresAt: Date.now() + 60_000,
    },
    other: { subject: "u2", realtime: true, publisher: false, expiresAt: Date.now() + 60_000 },
  };
  const subscribed: Subscription[] = [];
  const broker: SessionBroker = {
    subscribe: async (_s, sub) => void subscribed.push(sub),
    unsubscribe: async () => {},
    publish: async () => {},
  };
  const authenticate = async (credential: string) => {
    const grant = grants[credential];
    if (!grant) throw new TokenError("Invalid token: bad signature");
    return grant;
  };
  const start = async (connect: string) => {
    const t = new FakeTransport();
    const s = new StompSession(newSessionState("tok"), t, broker, DELAYED, authenticate);
    await s.receive(`CONNECT\naccept-version:1.2\n${connect}\n\0`);
    return { s, t, error: () => t.frames().find((f) => f.command === "ERROR") };
  };

  it("requires a credential in token mode, from passcode or an Authorization header", async () => {
    const none = await start("");
    expect(header(none.error()!, "message")).toBe("Authentication required");
    expect(none.t.closed?.code).toBe(1008);
    const bad = await start("passcode:forged\n");
    expect(header(bad.error()!, "message")).toBe("Invalid token: bad signature");
    const bearer = await start("Authorization:Bearer live\n");
    expect(bearer.error()).toBeUndefined();
    expect(bearer.s.state.grant?.realtime).toBe(true);
  });

  it("puts a connection without rt on the delayed stream and keeps sym-limited tokens to their symbols", async () => {
    subscribed.length = 0;
    const live = await start("passcode:live\n");
    await live.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.MSFT\n\n\0");
    const pub = await start("passcode:public\n");
    await pub.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.BTC-USD\n\n\0");
    await pub.s.receive("SUBSCRIBE\nid:2\ndestination:/topic/viewers.AAPL\n\n\0");
    expect(subscribed.map((s) => `${s.stream}.${s.symbol}`)).toEqual([
      "ticker.MSFT",
      "delayed.BTC-USD",
      "viewers.AAPL",
    ]);
    await pub.s.receive("SUBSCRIBE\nid:3\ndestination:/topic/ticker.MSFT\n\n\0");
    expect(header(pub.error()!, "message")).toBe("Not entitled");
    expect(subscribed).toHaveLength(3);
  });

  it("takes a fresh token for the same subject and entitlements, refuses one that changes them", async () => {
    const c = await start("passcode:live\n");
    await c.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.AAPL\n\n\0");
    await c.s.receive("SEND\ndestination:/app/token\nreceipt:r\n\nlive\0");
    expect(c.t.frames().some((f) => f.command === "RECEIPT")).toBe(true);
    await c.s.receive("SEND\ndestination:/app/token\n\npublic\0");
    expect(header(c.error()!, "message")).toBe("Token changes entitlements");
    const other = await start("passcode:live\n");
    await other.s.receive("SEND\ndestination:/app/token\n\nother\0");
    expect(header(other.error()!, "message")).toBe("Token subject changed");
  });

  it("ends the session with 'Token expired' once its exp passes", async () => {
    const c = await start("passcode:live\n");
    expect(c.s.expire(Date.now())).toBe(false);
    expect(c.s.expire(grants.live!.expiresAt!)).toBe(true);
    expect(header(c.error()!, "message")).toBe("Token expired");
    expect(c.t.closed?.code).toBe(1008);
  });
});

describe("SubscriptionIndex", () => {
  it("indexes by symbol and renders per-subscription heads, with ack for client-ack 1.2", async () => {
    const index = new SubscriptionIndex();
    const t = new FakeTransport();
    const s = new StompSession(
      { ...newSessionState("a"), version: "1.2" },
      t,
      {} as SessionBroker,
      LIMITS,
      authenticateSecret,
    );
    index.add(s, { id: "x", stream: "ticker", symbol: "AAPL", ack: "auto" });
    index.add(s, { id: "y", stream: "ticker", symbol: "AAPL", ack: "client" });
    index.add(s, { id: "z", stream: "ticker", symbol: "MSFT", ack: "auto" });
    expect(index.count("ticker.AAPL")).toBe(2);
    expect(index.count("ticker.MSFT")).toBe(1);
    expect(index.fanOut(frame("AAPL", 7))).toBe(2);
    const [x, y] = t.frames();
    expect(header(x!, "subscription")).toBe("x");
    expect(header(x!, "ack")).toBeUndefined();
    expect(header(y!, "ack")).toBe("AAPL-7");
    index.remove(s, { id: "y", stream: "ticker", symbol: "AAPL", ack: "client" });
    expect(index.count("ticker.AAPL")).toBe(1);
    index.removeSession(s);
    expect(index.count("ticker.AAPL") + index.count("ticker.MSFT")).toBe(0);
  });
});

describe("HubBroker", () => {
  function hub() {
    const upstream = new FakeSources();
    const timers = new ManualTimers();
    const broker = new HubBroker(upstream, timers, { debounceMs: 100, maxReplay: 50 });
    return { upstream, timers, broker };
  }

  it("attaches once per symbol: the first subscribe asks the source, later ones use the held snapshot", async () => {
    const { upstream, broker } = hub();
    upstream.ticks("AAPL", 3);
    const a = await connected(broker);
    const b = await connected(broker);
    await a.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.AAPL\n\n\0");
    await b.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.AAPL\n\n\0");
    expect(upstream.attaches).toEqual([["AAPL", 1]]);
    expect(messages(a.t)).toEqual([{ seq: 3, subscription: "1" }]);
    expect(messages(b.t)).toEqual([{ seq: 3, subscription: "1" }]);
    expect(broker.count("ticker.AAPL")).toBe(2);
  });

  it("shares one attach between concurrent subscribes, and a delivery during it is not lost", async () => {
    const { upstream, broker } = hub();
    upstream.ticks("MSFT", 5);
    let open!: () => void;
    upstream.gate = new Promise((r) => (open = r));
    const a = await connected(broker);
    const b = await connected(broker);
    const subs = [a, b].map((c) => c.s.receive("SUBSCRIBE\nid:m\ndestination:/topic/ticker.MSFT\n\n\0"));
    await settle();
    expect(upstream.attaches).toHaveLength(1);
    expect(broker.count("ticker.MSFT")).toBe(2);
    // The source starts delivering before the attach answer arrives.
    await broker.deliver([frame("MSFT", 6)]);
    open();
    await Promise.all(subs);
    // The snapshot is the newest frame the hub has: seq 6, not the attach answer's 5.
    expect(messages(a.t).map((m) => m.seq)).toEqual([6]);
    await broker.deliver([frame("MSFT", 7)]);
    expect(messages(b.t).map((m) => m.seq)).toEqual([6, 7]);
  });

  it("delivers in seq order, skips frames already seen, and fills a gap from the source's history", async () => {
    const { upstream, broker } = hub();
    upstream.ticks("IBM", 2);
    const c = await connected(broker);
    await c.s.receive("SUBSCRIBE\nid:i\ndestination:/topic/ticker.IBM\n\n\0");
    await broker.deliver([frame("IBM", 2), frame("IBM", 3)]);
    upstream.ticks("IBM", 7);
    // 4 and 5 were lost on the way (a failed delivery): 6 arrives next.
    const first = broker.deliver([frame("IBM", 6)]);
    // A later delivery waits for the gap to be filled.
    const second = broker.deliver([frame("IBM", 7)]);
    await first;
    await second;
    expect(upstream.ranges).toEqual([["IBM", 3, 6]]);
    expect(messages(c.t).map((m) => m.seq)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it("marks what the source's history cannot fill as a gap with its count, never a silent jump", async () => {
    const { upstream, broker } = hub();
    upstream.ticks("IBM", 3);
    const c = await connected(broker);
    await c.s.receive("SUBSCRIBE\nid:i\ndestination:/topic/ticker.IBM\n\n\0");
    upstream.ticks("IBM", 9);
    // The history lost 5 and 6 (trimmed, or restored short after a restart): 4 fills, 7 says two are gone.
    upstream.history.set(
      "IBM",
      upstream.history.get("IBM")!.filter((f) => f.seq !== 5 && f.seq !== 6),
    );
    await broker.deliver([frame("IBM", 7)]);
    // The source unreachable: the next jump is a gap too.
    upstream.range = () => Promise.reject(new Error("source gone"));
    await broker.deliver([frame("IBM", 9)]);
    const gaps = c.t
      .frames()
      .filter((f) => f.command === "MESSAGE")
      .map((f) => [Number(header(f, "x-seq")), header(f, "x-gap-count") ?? null]);
    expect(gaps).toEqual([
      [3, null],
      [4, null],
      [7, "2"],
      [9, "1"],
    ]);
  });

  it("takes a feed round's frames of many streams in one delivery (in order per stream), and tells the source of a stream held by nobody here", async () => {
    const { upstream, timers, broker } = hub();
    upstream.ticks("IBM", 1);
    upstream.ticks("KO", 1);
    const c = await connected(broker);
    await c.s.receive("SUBSCRIBE\nid:i\ndestination:/topic/ticker.IBM\n\n\0");
    await c.s.receive("SUBSCRIBE\nid:k\ndestination:/topic/ticker.KO\n\n\0");
    await timers.fire();
    await broker.deliver([frame("IBM", 2), frame("KO", 2), frame("MSFT", 9), frame("IBM", 3), frame("KO", 3)]);
    expect(messages(c.t, "i").map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(messages(c.t, "k").map((m) => m.seq)).toEqual([1, 2, 3]);
    // Its own message, with the other count changes: MSFT's source stops delivering here.
    await timers.fire();
    expect(upstream.interests).toEqual([
      ["IBM", 1],
      ["KO", 1],
      ["MSFT", 0],
    ]);
  });

  it("reports count changes upstream after the debounce, and 0 once the last subscriber leaves", async () => {
    const { upstream, timers, broker } = hub();
    upstream.ticks("KO", 1);
    const a = await connected(broker);
    const b = await connected(broker);
    await a.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.KO\n\n\0");
    await b.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.KO\n\n\0");
    await timers.fire();
    expect(upstream.interests).toEqual([["KO", 2]]);
    await a.s.receive("UNSUBSCRIBE\nid:1\n\n\0");
    broker.drop(b.s);
    await timers.fire();
    expect(upstream.interests).toEqual([
      ["KO", 2],
      ["KO", 0],
    ]);
    // A delivery that crossed the report is answered with another 0.
    await broker.deliver([frame("KO", 2)]);
    await timers.fire();
    expect(upstream.interests).toEqual([
      ["KO", 2],
      ["KO", 0],
      ["KO", 0],
    ]);
    // Released: the next subscriber attaches again.
    const c = await connected(broker);
    await c.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.KO\n\n\0");
    expect(upstream.attaches.map(([s]) => s)).toEqual(["KO", "KO"]);
  });

  it("turns a source without a price into an ERROR for that subscriber only", async () => {
    const { upstream, timers, broker } = hub();
    upstream.ticks("AAPL", 1);
    const good = await connected(broker);
    const bad = await connected(broker);
    await good.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.AAPL\n\n\0");
    await bad.s.receive("SUBSCRIBE\nid:1\ndestination:/topic/ticker.NOPE\n\n\0");
    expect(header(bad.t.frames().find((f) => f.command === "ERROR")!, "message")).toBe("No price for NOPE");
    expect(good.t.closed).toBeUndefined();
    await timers.fire();
    // Nothing to undo at a source that never had this hub.
    expect(upstream.interests.filter(([s]) => s === "NOPE")).toEqual([]);
  });

  it("passes a publisher's SEND to the source, validated", async () => {
    const { upstream, broker } = hub();
    const c = await connected(broker, "passcode:secret\n");
    await c.s.receive('SEND\ndestination:/topic/ticker.AAPL\n\n{"price":12.5}\0');
    expect(upstream.published).toEqual([expect.objectContaining({ symbol: "AAPL", price: 12.5 })]);
    await c.s.receive('SEND\ndestination:/topic/ticker.AAPL\n\n{"price":-1}\0');
    expect(header(c.t.frames().find((f) => f.command === "ERROR")!, "message")).toBe("Invalid tick");
  });

  describe("resuming with x-since", () => {
    function gapOf(t: FakeTransport): Array<{ seq: number; gap?: string; count?: string }> {
      return t
        .frames()
        .filter((f) => f.command === "MESSAGE")
        .map((f) => ({ seq: Number(header(f, "x-seq")), gap: header(f, "x-gap"), count: header(f, "x-gap-count") }));
    }

    it("replays every tick after the position, then continues live with no duplicate", async () => {
      const { upstream, broker } = hub();
      upstream.ticks("AAPL", 10);
      const c = await connected(broker);
      await c.s.receive(`SUBSCRIBE\nid:r\ndestination:/topic/ticker.AAPL\nx-since:${EPOCH}:7\n\n\0`);
      await broker.deliver([frame("AAPL", 10), frame("AAPL", 11)]);
      expect(gapOf(c.t)).toEqual([8, 9, 10, 11].map((seq) => ({ seq, gap: undefined, count: undefined })));
      expect(c.t.frames().map((f) => header(f, "x-replay"))).toEqual([undefined, "true", "true", "true", undefined]);
    });

    it("neither loses nor repeats a tick that arrives while the replay is read", async () => {
      const { upstream, broker } = hub();
      upstream.ticks("AAPL", 10);
      let open!: () => void;
      upstream.rangeGate = new Promise((r) => (open = r));
      const c = await connected(broker);
      const subscribing = c.s.receive(`SUBSCRIBE\nid:r\ndestination:/topic/ticker.AAPL\nx-since:${EPOCH}:5\n\n\0`);
      await settle();
      const live = broker.deliver([frame("AAPL", 11)]);
      open();
      await Promise.all([subscribing, live]);
      expect(gapOf(c.t).map((m) => m.seq)).toEqual([6, 7, 8, 9, 10, 11]);
    });

    it("marks a gap, with how many ticks are lost, when the history no longer reaches back", async () => {
      const { upstream, broker } = hub();
      upstream.ticks("AAPL", 10);
      upstream.history.set("AAPL", upstream.history.get("AAPL")!.slice(5)); // the ring holds 6..10
      const c = await connected(broker);
      await c.s.receive(`SUBSCRIBE\nid:r\ndestination:/topic/ticker.AAPL\nx-since:${EPOCH}:2\n\n\0`);
      expect(gapOf(c.t)).toEqual([{ seq: 10, gap: "true", count: "7" }]);
    });

    it("marks a gap of unknown size for another epoch, and sends nothing to a client already up to date", async () => {
      const { upstream, broker } = hub();
      upstream.ticks("AAPL", 10);
      const other = await connected(broker);
      await other.s.receive("SUBSCRIBE\nid:r\ndestination:/topic/ticker.AAPL\nx-since:older:9\n\n\0");
      expect(gapOf(other.t)).toEqual([{ seq: 10, gap: "true", count: undefined }]);
      const current = await connected(broker);
      await current.s.receive(`SUBSCRIBE\nid:r\ndestination:/topic/ticker.AAPL\nx-since:${EPOCH}:10\n\n\0`);
      expect(gapOf(current.t)).toEqual([]);
    });

    it("charges a replay to the connection's budget before reading it: past the budget a resume is a gap, and the source is not asked", async () => {
      const { upstream, broker } = hub();
      upstream.ticks("AAPL", 40);
      const c = await connected(broker, "", { ...LIMITS, maxSubscriptions: 10, replayBudget: 50 });
      const resume = (id: number) =>
        c.s.receive(`SUBSCRIBE\nid:${id}\ndestination:/topic/ticker.AAPL\nx-since:${EPOCH}:10\n\n\0`);
      await resume(1); // 30 ticks: within the budget of 50
      await resume(2); // 30 more: over it
      expect(upstream.ranges).toHaveLength(1);
      const second = gapOf(c.t).slice(30);
      expect(second).toEqual([{ seq: 40, gap: "true", count: "29" }]);
    });

    it("sends a throttled resume only the newest tick, without reading the history", async () => {
      const { upstream, broker } = hub();
      upstream.ticks("AAPL", 40);
      const c = await connected(broker);
      await c.s.receive(
        `SUBSCRIBE\nid:t\ndestination:/topic/ticker.AAPL\nx-since:${EPOCH}:10\nx-throttle-ms:1000\n\n\0`,
      );
      expect(upstream.ranges).toEqual([]);
      expect(gapOf(c.t)).toEqual([{ seq: 40, gap: undefined, count: undefined }]);
      expect(c.t.frames().map((f) => header(f, "x-replay"))).toEqual([undefined, "true"]);
    });

    it("refuses malformed positions and throttles with the reason", async () => {
      const { upstream, broker } = hub();
      upstream.ticks("AAPL", 1);
      for (const [headerLine, message] of [
        ["x-since:nocolon", "Invalid x-since header"],
        ["x-throttle-ms:50", "Invalid x-throttle-ms header"],
        ["x-throttle-ms:fast", "Invalid x-throttle-ms header"],
      ]) {
        const c = await connected(broker);
        await c.s.receive(`SUBSCRIBE\nid:r\ndestination:/topic/ticker.AAPL\n${headerLine}\n\n\0`);
        expect(header(c.t.frames().find((f) => f.command === "ERROR")!, "message")).toBe(message);
      }
    });
  });
});
