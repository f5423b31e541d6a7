/**
 * The compact form and batches through a hub: HubBroker, the STOMP session, the subscription
 * index and the real write path (Connection, WriteBatcher) with a fake carrier and fake
 * sources. What compact and batch subscribers get, read back with the client's reader, is
 * what a plain subscriber gets; plain subscribers' frames stay byte for byte as they were.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HubBroker } from "../../worker/broker/hub-broker";
import type { Sources } from "../../worker/broker/hub-ports";
import { newSessionState } from "../../worker/broker/session-state";
import { StompSession } from "../../worker/broker/stomp-session";
import {
  type BarUpdate,
  buildBarFrame,
  buildDelayedFrame,
  buildTickFrame,
  type StreamFrame,
} from "../../worker/broker/stream-frame";
import type { Stream } from "../../worker/broker/streams";
import { Connection } from "../../worker/connections/connection";
import { WriteBatcher } from "../../worker/connections/write-batcher";
import { markDelayed } from "../../worker/market/delay";
import type { Tick } from "../../worker/market/tick";
import { BARS_KIND, TICKS_KIND } from "../../worker/protocol/compact/fields";
import { CompactReader, type DecodedEntry } from "../../worker/protocol/compact/reader";
import { FrameDecoder } from "../../worker/protocol/stomp/decoder";
import { type Frame, header, type StompVersion } from "../../worker/protocol/stomp/frame";
import { authenticateSecret, SESSION_LIMITS } from "../support/session-limits";

const EPOCH = "3f2a9c1e";
const LIMITS = { ...SESSION_LIMITS, maxSubscriptions: 30 };

/** A symbol's ticks as its source numbers them: price, size, day volume, bid and ask moving. */
function ticks(symbol: string, count: number): Tick[] {
  const out: Tick[] = [];
  let price = 100 + symbol.charCodeAt(0);
  let dayVolume = 10_000;
  for (let seq = 1; seq <= count; seq++) {
    price = Math.round((price + (seq % 3) * 0.01 - 0.01) * 100) / 100;
    const size = 100 * (seq % 4);
    dayVolume += size;
    const change = Math.round((price - 150) * 1e6) / 1e6;
    out.push({
      symbol,
      price,
      ts: 1_795_263_600_000 + seq * 1000,
      seq,
      source: "sim",
      change,
      changePercent: Math.round((change / 150) * 100 * 1e4) / 1e4,
      prevClose: 150,
      open: 151,
      high: 190,
      low: 90,
      volume: dayVolume,
      bid: price - 0.01,
      ask: price + 0.01,
      currency: "USD",
      marketState: "REGULAR",
      staleAfterMs: 30_000,
      ...({ size, dayVolume } as object),
    });
  }
  return out;
}

/** The frames a source renders: each with the delta from the tick before it (`previous: false`: as a range read's first). */
function framesOf(list: Tick[]): StreamFrame[] {
  return list.map((t, i) => buildTickFrame(t, EPOCH, list[i - 1]));
}

class FakeSources implements Sources {
  readonly frames = new Map<string, StreamFrame[]>();
  async attach(stream: Stream): Promise<StreamFrame> {
    const known = this.frames.get(stream.symbol);
    if (!known?.length) throw new Error(`unknown symbol ${stream.symbol}`);
    return known.at(-1)!;
  }
  async interest(): Promise<void> {}
  async range(stream: Stream, after: number, before: number, limit: number): Promise<StreamFrame[]> {
    // As a source reads them from its history: the first of a range has no delta.
    const list = (this.frames.get(stream.symbol) ?? []).filter((f) => f.seq > after && f.seq < before).slice(0, limit);
    return list.map((f, i) => (i === 0 ? { ...f, compact: { whole: f.compact!.whole } } : f));
  }
  async publish(): Promise<void> {}
}

const SERVER_COMMANDS = new Set(["CONNECTED", "MESSAGE", "RECEIPT", "ERROR"]);
const settle = () => vi.advanceTimersByTimeAsync(0);

function hub() {
  const sources = new FakeSources();
  const broker = new HubBroker(sources, { later: () => {} }, { debounceMs: 100, maxReplay: 50 });
  const batcher = new WriteBatcher(0);
  /** `outbound`: the connection's budget (bytes per second, and its burst), if any. */
  async function client(version = "1.2", outbound?: number) {
    const writes: string[][] = [];
    const limits = outbound
      ? {
          inbound: { messagesPerSecond: 100, bytesPerSecond: 1 << 20, messageBurst: 100, byteBurst: 1 << 20 },
          outbound: { bytesPerSecond: outbound, byteBurst: outbound },
        }
      : undefined;
    const carrier = { write: (f: readonly string[]) => writes.push([...f]), close() {}, save() {} };
    const conn = new Connection("stomp-socket", carrier, batcher, undefined, limits);
    conn.session = new StompSession(newSessionState("s"), conn, broker, LIMITS, authenticateSecret);
    await conn.receive(`CONNECT\naccept-version:${version}\nhost:x\n\n\0`);
    return {
      conn,
      writes,
      send: (text: string) => conn.receive(text),
      /** Every frame written so far but CONNECTED. */
      frames(): Frame[] {
        const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20, commands: SERVER_COMMANDS });
        decoder.version = version as StompVersion;
        return decoder.push(writes.flat().join("")).filter((f) => f.command !== "CONNECTED");
      },
      /** Every WebSocket message written so far, as the client got them. */
      messages: () => writes.map((w) => w.join("")),
    };
  }
  return { sources, broker, client };
}

const bodyOf = (f: Frame) => new TextDecoder().decode(f.body);
const plain = (t: Tick) => JSON.parse(JSON.stringify(t));

/** Decodes every MESSAGE of one subscription with the client's reader. */
function readAll(frames: Frame[], sub: string, reader: CompactReader, batch: boolean): DecodedEntry[] {
  return frames
    .filter((f) => f.command === "MESSAGE" && header(f, "subscription") === sub)
    .flatMap((f) => (batch ? reader.batch(bodyOf(f)) : [reader.single(bodyOf(f))]));
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_795_263_600_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("compact subscriptions", () => {
  it("send the whole tick first, then what changed; read back, the plain subscriber's ticks", async () => {
    const { sources, broker, client } = hub();
    const all = ticks("AAPL", 30);
    const frames = framesOf(all);
    sources.frames.set("AAPL", frames.slice(0, 1));
    const c = await client();
    await c.send("SUBSCRIBE\nid:p\ndestination:/topic/ticker.AAPL\n\n\0");
    await c.send("SUBSCRIBE\nid:c\ndestination:/topic/ticker.AAPL\nx-format:compact\n\n\0");
    for (const f of frames.slice(1)) await broker.deliver([f]);
    await settle();
    const got = c.frames();
    const plainBodies = got.filter((f) => header(f, "subscription") === "p").map((f) => JSON.parse(bodyOf(f)));
    expect(plainBodies).toEqual(all.map(plain));
    const compact = got.filter((f) => header(f, "subscription") === "c");
    expect(compact).toHaveLength(30);
    // No header the subscription implies: no destination, message-id, positions, content-type or length.
    expect(compact.every((f) => f.headers.length === 1)).toBe(true);
    const decoded = readAll(got, "c", new CompactReader(TICKS_KIND, "AAPL"), false);
    expect(decoded.map((d) => d.value)).toEqual(all.map(plain));
    expect(decoded.map((d) => d.position)).toEqual(all.map((t) => ({ epoch: EPOCH, seq: t.seq })));
    // The first is whole; the others carry only price, time, size, bid and ask.
    expect(bodyOf(compact[0]!)).toMatch(/^\{"q":1,"e":"3f2a9c1e","s":"AAPL",/);
    for (const f of compact.slice(1))
      expect(Object.keys(JSON.parse(bodyOf(f))).sort()).toEqual(expect.arrayContaining(["t"]));
    const size = (f: Frame) =>
      Buffer.byteLength(`MESSAGE\n${f.headers.map(([k, v]) => `${k}:${v}\n`).join("")}\n${bodyOf(f)}\0`);
    const plainSize = size(got.find((f) => header(f, "subscription") === "p")!);
    expect(Math.max(...compact.slice(1).map(size))).toBeLessThan(plainSize / 4);
  });

  it("send a throttled subscription deltas from what it received, not from the ticks it skipped", async () => {
    const { sources, broker, client } = hub();
    const all = ticks("MSFT", 40);
    const frames = framesOf(all);
    sources.frames.set("MSFT", frames.slice(0, 1));
    const c = await client();
    await c.send("SUBSCRIBE\nid:c\ndestination:/topic/ticker.MSFT\nx-format:compact\nx-throttle-ms:100\n\n\0");
    for (const f of frames.slice(1)) {
      await broker.deliver([f]);
      await vi.advanceTimersByTimeAsync(30);
    }
    await vi.advanceTimersByTimeAsync(500);
    const got = c.frames();
    const decoded = readAll(got, "c", new CompactReader(TICKS_KIND, "MSFT"), false);
    expect(decoded.length).toBeGreaterThan(5);
    expect(decoded.length).toBeLessThan(30);
    for (const d of decoded) expect(d.value).toEqual(plain(all[d.position.seq - 1]!));
    expect(decoded.at(-1)!.position.seq).toBe(40); // the last of the burst always follows
    // Skips: deltas that say their seq; none of them whole again.
    const bodies = got.map((f) => JSON.parse(bodyOf(f)));
    expect(bodies.slice(1).every((b) => b.e === undefined && typeof b.q === "number")).toBe(true);
  });
});

describe("gaps in the compact form", () => {
  it("mark what the history could not fill and what the outbound budget replaced: whole, with the count", async () => {
    const { sources, broker, client } = hub();
    const all = ticks("AAPL", 40);
    const frames = framesOf(all);
    sources.frames.set("AAPL", frames.slice(0, 1));
    const c = await client("1.2", 2_000);
    await c.send("SUBSCRIBE\nid:p\ndestination:/topic/ticker.AAPL\n\n\0");
    await c.send("SUBSCRIBE\nid:c\ndestination:/topic/ticker.AAPL\nx-format:compact\n\n\0");
    await c.send("SUBSCRIBE\nid:w\ndestination:/topic/tickers\nx-symbols:AAPL\n\n\0");
    await vi.advanceTimersByTimeAsync(5_000);
    // Seqs 2–4 never reach the hub, and the source's history no longer has them.
    for (const f of frames.slice(4, 10)) {
      await broker.deliver([f]);
      await vi.advanceTimersByTimeAsync(5_000);
    }
    // Then a burst past the budget: the connection keeps only the newest of each subscription.
    // Seqs 26–28 never reach the hub either: the history cannot fill them inside the burst.
    for (const f of [...frames.slice(10, 25), ...frames.slice(28)]) await broker.deliver([f]);
    await vi.advanceTimersByTimeAsync(10_000);
    const got = c.frames();
    const plainFrames = got.filter((f) => header(f, "subscription") === "p");
    const plainGaps = plainFrames
      .filter((f) => header(f, "x-gap") === "true")
      .map((f) => [Number(header(f, "x-seq")), Number(header(f, "x-gap-count"))]);
    expect(plainGaps.length).toBeGreaterThanOrEqual(2);
    expect(plainGaps[0]).toEqual([5, 3]);
    // Plain too: every jump says how many it missed, in one count, whoever dropped them.
    expect(Number(header(plainFrames.at(-1)!, "x-seq"))).toBe(40);
    for (let i = 1; i < plainFrames.length; i++) {
      const f = plainFrames[i]!;
      const missed = Number(header(f, "x-seq")) - Number(header(plainFrames[i - 1]!, "x-seq")) - 1;
      const counts = f.headers.filter(([name]) => name === "x-gap-count").map(([, count]) => Number(count));
      expect(counts, `x-seq ${header(f, "x-seq")}`).toEqual(missed > 0 ? [missed] : []);
    }
    for (const [sub, batch] of [
      ["c", false],
      ["w", true],
    ] as const) {
      const decoded = readAll(got, sub, new CompactReader(TICKS_KIND, "AAPL"), batch);
      for (const d of decoded) expect(d.value).toEqual(plain(all[d.position.seq - 1]!));
      expect(decoded.at(-1)!.position.seq).toBe(40);
      const gaps = decoded.filter((d) => d.arrival.kind === "gap");
      expect(gaps[0]).toMatchObject({ position: { seq: 5 }, arrival: { kind: "gap", missed: 3 } });
      // Every jump in seq is a gap that says how many it missed, never a silent one.
      for (let i = 1; i < decoded.length; i++) {
        const missed = decoded[i]!.position.seq - decoded[i - 1]!.position.seq - 1;
        expect(decoded[i]!.arrival).toEqual(missed > 0 ? { kind: "gap", missed } : { kind: "live" });
      }
      expect(gaps.length).toBeGreaterThanOrEqual(2);
    }
  });
});

describe("compact delayed ticks and bars", () => {
  it("read back as the plain bodies: delayed ticks with their marks, bar updates forming and final", async () => {
    const { sources, broker, client } = hub();
    const delayed = ticks("DLY", 6);
    const delayedFrames = delayed.map((t, i) => buildDelayedFrame(t, EPOCH, 900_000, delayed[i - 1]));
    const updates: BarUpdate[] = Array.from({ length: 8 }, (_, i) => ({
      symbol: "BAR",
      bar: {
        t: 1_795_263_600_000 + Math.floor(i / 3) * 60_000,
        o: 10,
        h: 10 + i,
        l: 9,
        c: 10 + i / 2,
        v: 100 * i,
        n: i + 1,
      },
      final: i % 3 === 2,
    }));
    const barFrames = updates.map((u, i) => buildBarFrame(u, i + 1, EPOCH, updates[i - 1]));
    sources.frames.set("DLY", delayedFrames.slice(0, 1));
    sources.frames.set("BAR", barFrames.slice(0, 1));
    const c = await client();
    // The delayed stream as a connection without rt gets it: its frames under the ticker destination.
    await c.send("SUBSCRIBE\nid:b\ndestination:/topic/bars.BAR.1m\nx-format:compact\n\n\0");
    await broker.subscribe(c.conn.session!, {
      id: "d",
      stream: "delayed",
      symbol: "DLY",
      ack: "auto",
      form: "compact",
    });
    for (const f of [...delayedFrames.slice(1), ...barFrames.slice(1)]) await broker.deliver([f]);
    await settle();
    const got = c.frames();
    const d = readAll(got, "d", new CompactReader(TICKS_KIND, "DLY"), false);
    expect(d.map((e) => e.value)).toEqual(delayed.map((t) => plain(markDelayed(t, 900_000))));
    const b = readAll(got, "b", new CompactReader(BARS_KIND, "BAR"), false);
    expect(b.map((e) => e.value)).toEqual(
      barFrames.map((f) => JSON.parse(f.tail.slice(f.tail.indexOf("\n\n") + 2, -1))),
    );
  });
});

describe("batches (/topic/tickers)", () => {
  it("carry a round's ticks of every symbol in one MESSAGE; read back, the plain ticks", async () => {
    const { sources, broker, client } = hub();
    const symbols = ["AAA", "BBB", "CCC", "DDD"];
    const all = new Map(symbols.map((s) => [s, ticks(s, 10)]));
    for (const s of symbols) sources.frames.set(s, framesOf(all.get(s)!).slice(0, 1));
    const c = await client();
    await c.send(`SUBSCRIBE\nid:w\ndestination:/topic/tickers\nx-symbols:${symbols.join(",").toLowerCase()}\n\n\0`);
    await settle();
    const before = c.writes.length;
    for (let seq = 2; seq <= 10; seq++) {
      // One feed round: every symbol's tick in one delivery.
      await broker.deliver(symbols.map((s) => framesOf(all.get(s)!)[seq - 1]!));
      await settle();
    }
    const rounds = c.messages().slice(before);
    expect(rounds).toHaveLength(9);
    for (const m of rounds) {
      expect(m.match(/MESSAGE\n/g)).toHaveLength(1);
      expect(m.startsWith("MESSAGE\nsubscription:w\n\n[")).toBe(true);
    }
    const decoded = readAll(c.frames(), "w", new CompactReader(TICKS_KIND), true);
    for (const s of symbols)
      expect(decoded.filter((d) => d.symbol === s).map((d) => d.value)).toEqual(all.get(s)!.map(plain));
  });

  it("resume per symbol: a replay marked as such, a gap whole", async () => {
    const { sources, client } = hub();
    const a = ticks("AAA", 8);
    const b = ticks("BBB", 8);
    sources.frames.set("AAA", framesOf(a));
    sources.frames.set("BBB", framesOf(b));
    const c = await client();
    await c.send(
      `SUBSCRIBE\nid:w\ndestination:/topic/tickers\nx-symbols:AAA,BBB\nx-since:AAA:${EPOCH}:5,BBB:0ldepoch:3\n\n\0`,
    );
    await settle();
    const decoded = readAll(c.frames(), "w", new CompactReader(TICKS_KIND), true);
    expect(decoded.map((d) => [d.symbol, d.position.seq, d.arrival.kind])).toEqual(
      expect.arrayContaining([
        ["AAA", 6, "replayed"],
        ["AAA", 7, "replayed"],
        ["AAA", 8, "replayed"],
        ["BBB", 8, "gap"],
      ]),
    );
    expect(decoded).toHaveLength(4);
    for (const d of decoded) expect(d.value).toEqual(plain((d.symbol === "AAA" ? a : b)[d.position.seq - 1]!));
  });

  it("throttle each symbol on its own: a busy one conflated, a calm one not held back by it", async () => {
    const { sources, broker, client } = hub();
    const a = framesOf(ticks("AAA", 30));
    const b = framesOf(ticks("BBB", 30));
    sources.frames.set("AAA", a.slice(0, 1));
    sources.frames.set("BBB", b.slice(0, 1));
    const c = await client();
    await c.send("SUBSCRIBE\nid:w\ndestination:/topic/tickers\nx-symbols:AAA,BBB\nx-throttle-ms:200\n\n\0");
    await settle();
    for (let i = 1; i < 30; i++) {
      await broker.deliver([a[i]!, ...(i % 10 === 0 ? [b[i / 10]!] : [])]);
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(500);
    const decoded = readAll(c.frames(), "w", new CompactReader(TICKS_KIND), true);
    const seqs = (s: string) => decoded.filter((d) => d.symbol === s).map((d) => d.position.seq);
    expect(seqs("BBB")).toEqual([1, 2, 3]);
    expect(seqs("AAA").length).toBeLessThanOrEqual(6); // 600 ms at one per 200 ms, and the first
    expect(seqs("AAA").at(-1)).toBe(30);
  });

  it("end with UNSUBSCRIBE, every symbol at once, and refuse what a batch cannot be", async () => {
    const { sources, broker, client } = hub();
    for (const s of ["AAA", "BBB"]) sources.frames.set(s, framesOf(ticks(s, 1)));
    const c = await client();
    await c.send("SUBSCRIBE\nid:w\ndestination:/topic/tickers\nx-symbols:AAA,BBB\n\n\0");
    expect(broker.count("ticker.AAA") + broker.count("ticker.BBB")).toBe(2);
    await c.send("UNSUBSCRIBE\nid:w\n\n\0");
    expect(broker.count("ticker.AAA") + broker.count("ticker.BBB")).toBe(0);
    const cases: Array<[string, string]> = [
      ["x-symbols:AAA,aaa\n", "invalid-header"],
      ["x-symbols:AAA\nack:client\n", "invalid-ack-mode"],
      ["x-symbols:AAA\nx-format:json\n", "invalid-header"],
      ["x-symbols:AAA\nx-since:BBB:e:1\n", "invalid-header"],
      ["", "missing-header"],
    ];
    for (const [headers, code] of cases) {
      const d = await client();
      await d.send(`SUBSCRIBE\nid:w\ndestination:/topic/tickers\n${headers}\n\0`);
      const error = d.frames().find((f) => f.command === "ERROR");
      expect(header(error!, "x-error-code"), headers).toBe(code);
    }
  });
});

describe("plain subscriptions", () => {
  /** Today's MESSAGE frame, written out by hand: what every client that does not ask for more must keep getting. */
  function golden(sub: string, tick: Tick, ack?: string): string {
    const body = JSON.stringify(tick);
    return (
      `MESSAGE\nsubscription:${sub}\n${ack === undefined ? "" : `ack:${ack}\n`}destination:/topic/ticker.${tick.symbol}\n` +
      `message-id:${tick.symbol}-${tick.seq}\nx-seq:${tick.seq}\nx-epoch:${EPOCH}\n` +
      `content-type:application/json\ncontent-length:${Buffer.byteLength(body)}\n\n${body}\0`
    );
  }

  it("get the same bytes as before, whatever else the connection asked for", async () => {
    for (const version of ["1.0", "1.1", "1.2"]) {
      const { sources, broker, client } = hub();
      const all = ticks("AAPL", 5);
      sources.frames.set("AAPL", framesOf(all).slice(0, 1));
      const c = await client(version);
      await c.send("SUBSCRIBE\nid:p\ndestination:/topic/ticker.AAPL\n\n\0");
      await c.send("SUBSCRIBE\nid:k\ndestination:/topic/ticker.AAPL\nack:client\n\n\0");
      await c.send("SUBSCRIBE\nid:w\ndestination:/topic/tickers\nx-symbols:AAPL\n\n\0");
      for (const f of framesOf(all).slice(1)) await broker.deliver([f]);
      await settle();
      const text = c.messages().join("");
      for (const t of all) {
        expect(text).toContain(golden("p", t));
        expect(text).toContain(golden("k", t, version === "1.2" ? `AAPL-${t.seq}` : undefined));
      }
    }
  });
});
