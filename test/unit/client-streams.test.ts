import { afterEach, describe, expect, it, vi } from "vitest";
import { TickBatches } from "../../client/src/batches";
import { type ServerErrorCode, stompError } from "../../client/src/errors";
import { arrivalOf, Positions } from "../../client/src/positions";
import { type Decoded, destinationFor, WIRE_FORMATS } from "../../client/src/streams";
import { feed } from "../../client/src/subscription";
import { expiryOf, TokenKeeper } from "../../client/src/token-keeper";
import type { Tick } from "../../client/src/types";
import { buildBarFrame, buildTickFrame, type StreamFrame } from "../../worker/broker/stream-frame";
import { HTTP_ERRORS } from "../../worker/http/errors";
import { encodeDelta } from "../../worker/protocol/compact/codec";
import { deltaEntry, symbolPair, wholeEntry } from "../../worker/protocol/compact/entry";
import { type Rec, TICKS_KIND } from "../../worker/protocol/compact/fields";
import { CompactError } from "../../worker/protocol/compact/reader";
import { STOMP_ERRORS } from "../../worker/protocol/stomp/errors";

describe("resume positions", () => {
  const at = (seq: number, epoch = "e1") => ({ epoch, seq });

  it("delivers each position once, in order, and resumes after the last one delivered", () => {
    const p = new Positions();
    expect(p.since("ticks.AAPL")).toBeUndefined();
    expect(p.accept("ticks.AAPL", at(7), arrivalOf({}))).toEqual({ kind: "deliver", arrival: { kind: "live" } });
    expect(p.accept("ticks.AAPL", at(8), arrivalOf({ "x-replay": "true" }))).toEqual({
      kind: "deliver",
      arrival: { kind: "replayed" },
    });
    // The seam of a resume overlapping what was delivered: dropped.
    expect(p.accept("ticks.AAPL", at(8), arrivalOf({}))).toEqual({ kind: "duplicate" });
    expect(p.accept("ticks.AAPL", at(3), arrivalOf({}))).toEqual({ kind: "duplicate" });
    expect(p.since("ticks.AAPL")).toBe("e1:8");
    // Streams are apart.
    expect(p.since("bars.AAPL")).toBeUndefined();
  });

  it("reports a gap with the server's count, unknown across epochs", () => {
    const p = new Positions();
    p.accept("ticks.X", at(10), arrivalOf({}));
    expect(p.accept("ticks.X", at(40), arrivalOf({ "x-gap": "true", "x-gap-count": "29" }))).toEqual({
      kind: "deliver",
      arrival: { kind: "gap", missed: 29 },
    });
    // A new epoch (the server lost the stream's state): its positions start over, the loss is unknown.
    expect(p.accept("ticks.X", at(1, "e2"), arrivalOf({ "x-gap": "true" }))).toEqual({
      kind: "deliver",
      arrival: { kind: "gap", missed: undefined },
    });
    expect(p.since("ticks.X")).toBe("e2:1");
  });

  it("reports an unmarked jump on a stream that carries every position as a gap, and only there", () => {
    const p = new Positions();
    p.accept("ticks.Y", at(5), arrivalOf({}), true);
    expect(p.accept("ticks.Y", at(9), arrivalOf({ "x-replay": "true" }), true)).toEqual({
      kind: "deliver",
      arrival: { kind: "gap", missed: 3 },
    });
    expect(p.accept("ticks.Y", at(10), arrivalOf({}), true)).toEqual({ kind: "deliver", arrival: { kind: "live" } });
    // A throttled stream (or bars) skips positions by design.
    p.accept("ticks.Z@1000", at(5), arrivalOf({}));
    expect(p.accept("ticks.Z@1000", at(20), arrivalOf({}))).toEqual({ kind: "deliver", arrival: { kind: "live" } });
  });
});

describe("the wire formats and stream kinds", () => {
  it("names the server's destinations and reads positions from the headers", () => {
    expect(destinationFor("ticks", "AAPL")).toBe("/topic/ticker.AAPL");
    expect(destinationFor("bars", "BTC-USD")).toBe("/topic/bars.BTC-USD.1m");
    expect(destinationFor("viewers", "MSFT")).toBe("/topic/viewers.MSFT");
    const decode = WIRE_FORMATS.json.decoder("ticks");
    const body = JSON.stringify({ symbol: "AAPL", price: 1, seq: 5 });
    expect(decode({ headers: { "x-seq": "5", "x-epoch": "ab" }, body })).toEqual({
      value: { symbol: "AAPL", price: 1, seq: 5 },
      position: { epoch: "ab", seq: 5 },
      arrival: { kind: "live" },
    });
    expect(WIRE_FORMATS.json.decoder("viewers")({ headers: {}, body: "{}" }).position).toBeUndefined();
  });
});

describe("subscriptions", () => {
  it("iterate every value pushed, in order, and unsubscribe once when the loop ends", async () => {
    const stop = vi.fn();
    const f = feed<number>("AAPL", stop);
    const seen: number[] = [];
    const loop = (async () => {
      for await (const v of f.subscription) {
        seen.push(v);
        if (v === 3) break;
      }
    })();
    for (const v of [1, 2, 3, 4]) f.push(v);
    await loop;
    expect(seen).toEqual([1, 2, 3]);
    expect(stop).toHaveBeenCalledTimes(1);
    f.subscription(); // calling it again does nothing more
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it("end an iteration when unsubscribed, and throw in it when refused", async () => {
    const a = feed<number>("A", () => {});
    const it1 = a.subscription[Symbol.asyncIterator]();
    const next = it1.next();
    a.subscription.unsubscribe();
    expect(await next).toEqual({ value: undefined, done: true });

    const b = feed<number>("B", () => {});
    const it2 = b.subscription[Symbol.asyncIterator]();
    b.push(1);
    b.fail(new Error("unknown symbol"));
    expect(await it2.next()).toEqual({ value: 1, done: false });
    await expect(it2.next()).rejects.toThrow("unknown symbol");
  });
});

describe("the token keeper", () => {
  afterEach(() => vi.useRealTimers());
  const jwt = (exp: number) => `h.${btoa(JSON.stringify({ exp })).replace(/=+$/, "")}.s`;

  it("hands a fresh token over before the current one expires, while connected", async () => {
    vi.useFakeTimers({ now: 1_000_000_000_000 });
    let n = 0;
    const source = vi.fn(() => jwt(Math.floor(Date.now() / 1000) + 120) + String(++n));
    const handed: string[] = [];
    const keeper = new TokenKeeper(source, (t) => handed.push(t));
    const first = await keeper.current();
    expect(expiryOf(first)).toBe(Date.now() + 120_000);
    keeper.connected();
    // Renewed 30 s before exp.
    await vi.advanceTimersByTimeAsync(89_000);
    expect(handed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(handed).toHaveLength(1);
    expect(handed[0]).not.toBe(first);
    keeper.disconnected();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(handed).toHaveLength(1);
  });
});

describe("typed errors", () => {
  it("take their codes from the server's catalogues", () => {
    const codes: ServerErrorCode[] = ["not-entitled", "token-expired", "hubs-full", "unknown-symbol"];
    // @ts-expect-error: not a code the server sends
    const bogus: ServerErrorCode = "no-such-code";
    expect([...codes, bogus].length).toBe(5);
    const err = stompError({ "x-error-code": "token-expired", message: "Token expired" }, "exp passed\n");
    expect(err).toMatchObject({ code: "token-expired", message: "Token expired", details: "exp passed" });
    // The client stops on a policy refusal (close 1008) without a token source: the catalogue closes credential faults so.
    for (const code of ["auth-required", "invalid-token", "token-expired"] as const)
      expect(STOMP_ERRORS[code].closeCode).toBe(1008);
    expect(HTTP_ERRORS["unknown-symbol"]).toBe(404);
  });
});

/** Ticks as a source numbers them: price, size, day volume, bid and ask moving; the rest still. */
function ticks(count: number): Tick[] {
  let price = 228.5;
  let dayVolume = 80_000;
  return Array.from({ length: count }, (_, i) => {
    const seq = 101 + i;
    price = Math.round((price + ((seq % 3) - 1) * 0.01) * 100) / 100;
    const size = 100 * (seq % 4);
    dayVolume += size;
    const change = Math.round((price - 226.69) * 1e6) / 1e6;
    return {
      symbol: "AAPL",
      price,
      ts: 1_795_263_600_000 + seq * 997,
      seq,
      source: "sim",
      change,
      changePercent: Math.round((change / 226.69) * 100 * 1e4) / 1e4,
      prevClose: 226.69,
      open: 228.5,
      high: 229,
      low: 228,
      volume: dayVolume,
      bid: price - 0.02,
      ask: price + 0.02,
      currency: "USD",
      marketState: "REGULAR",
      staleAfterMs: 30_000,
      ...({ size, dayVolume } as object),
    };
  });
}

describe("the compact wire format", () => {
  const EPOCH = "3f2a9c1e";
  const frame = (body: string) => ({ headers: { subscription: "0" }, body });
  const plainOf = (f: StreamFrame) => ({
    headers: Object.fromEntries(
      f.tail
        .slice(0, f.tail.indexOf("\n\n"))
        .split("\n")
        .map((l) => l.split(":") as [string, string]),
    ),
    body: f.tail.slice(f.tail.indexOf("\n\n") + 2, -1),
  });

  it("reads whole and delta entries back into the ticks a JSON subscription decodes, positions included", () => {
    const list = ticks(40);
    const frames = list.map((t, i) => buildTickFrame(t, EPOCH, list[i - 1]));
    const json = WIRE_FORMATS.json.decoder("ticks");
    const compact = WIRE_FORMATS.compact.decoder("ticks");
    expect(WIRE_FORMATS.compact.subscribeHeaders).toEqual({ "x-format": "compact" });
    const bodies = frames.map((f, i) =>
      i === 0 ? wholeEntry(f.seq, f.epoch, f.compact!.whole) : deltaEntry(f.compact!.delta!),
    );
    // What makes it worth asking for: the deltas are a fraction of the plain body.
    expect(Math.max(...bodies.slice(1).map((b) => b.length))).toBeLessThan(plainOf(frames[1]!).body.length / 4);
    for (const [i, f] of frames.entries()) {
      const want = json(plainOf(f));
      expect(want.position).toEqual({ epoch: EPOCH, seq: list[i]!.seq });
      expect(compact(frame(bodies[i]!))).toEqual(want);
    }
  });

  it("carries replays and gaps in the entry, and starts afresh with each decoder (each SUBSCRIBE)", () => {
    const list = ticks(12);
    const frames = list.map((t, i) => buildTickFrame(t, EPOCH, list[i - 1]));
    const first = WIRE_FORMATS.compact.decoder("ticks");
    expect(first(frame(wholeEntry(101, EPOCH, frames[0]!.compact!.whole, { kind: "replay" }))).arrival).toEqual({
      kind: "replayed",
    });
    const gap = first(frame(wholeEntry(110, EPOCH, frames[9]!.compact!.whole, { kind: "gap", missed: 8 })));
    expect(gap.arrival).toEqual({ kind: "gap", missed: 8 });
    expect(gap.position).toEqual({ epoch: EPOCH, seq: 110 });
    // A delta that names its seq (a throttled subscription's skip) applies to the entry before it.
    const rec = (f: StreamFrame) => JSON.parse(plainOf(f).body) as Rec;
    const since110 = encodeDelta(TICKS_KIND, rec(frames[9]!), rec(frames[11]!))!;
    const skip = first(frame(deltaEntry(since110, undefined, 112)));
    expect(skip).toEqual(WIRE_FORMATS.json.decoder("ticks")(plainOf(frames[11]!)));
    // A new subscription's decoder has nothing to apply a delta to: the server starts it whole.
    expect(() => WIRE_FORMATS.compact.decoder("ticks")(frame(deltaEntry(frames[1]!.compact!.delta!)))).toThrow(
      CompactError,
    );
  });

  it("reads bar updates back, and leaves viewer counts (no compact form) as JSON", () => {
    const bar = { t: 1_795_263_600_000, o: 10, h: 11, l: 9.5, c: 10.5, v: 1200, n: 7 };
    const update = (c: number, final: boolean) => ({ symbol: "AAPL", bar: { ...bar, c }, final });
    const a = buildBarFrame(update(10.5, false), 7, EPOCH);
    const b = buildBarFrame(update(10.75, true), 8, EPOCH, update(10.5, false));
    const json = WIRE_FORMATS.json.decoder("bars");
    const compact = WIRE_FORMATS.compact.decoder("bars");
    expect(compact(frame(wholeEntry(7, EPOCH, a.compact!.whole)))).toEqual(json(plainOf(a)));
    expect(compact(frame(deltaEntry(b.compact!.delta!)))).toEqual(json(plainOf(b)));
    const viewers = { headers: {}, body: JSON.stringify({ symbol: "AAPL", viewers: 3, ts: 5 }) };
    expect(WIRE_FORMATS.compact.decoder("viewers")(viewers)).toEqual(WIRE_FORMATS.json.decoder("viewers")(viewers));
  });
});

describe("watchlist batches", () => {
  interface M {
    symbol: string;
    throttleMs?: number;
    since?: string;
  }
  function batches() {
    const log: string[] = [];
    const subs: Array<{ headers: Record<string, string>; onBody: (body: string) => void }> = [];
    const got: Array<[string, unknown]> = [];
    let connected = true;
    const b = new TickBatches<M>({
      connected: () => connected,
      throttleOf: (m) => m.throttleMs,
      since: (m) => m.since,
      subscribe: (destination, headers, onBody) => {
        const h = headers as Record<string, string>;
        log.push(
          `SUBSCRIBE ${destination} ${h.id} ${h["x-symbols"]} ${h["x-since"] ?? "-"} ${h["x-throttle-ms"] ?? "-"}`,
        );
        subs.push({ headers: h, onBody });
        return { id: h.id!, unsubscribe: () => log.push(`UNSUBSCRIBE ${h.id}`) };
      },
      deliver: (m, d) => got.push([m.symbol, d]),
    });
    const disconnect = () => {
      connected = false;
    };
    return { b, log, subs, got, disconnect };
  }
  const turn = () => new Promise<void>((resolve) => queueMicrotask(resolve));

  it("subscribe a turn's symbols in one batch per throttle, each resumed from its position", async () => {
    const { b, log } = batches();
    const aapl = { symbol: "AAPL", since: "e1:7" };
    b.add({ symbol: "MSFT" });
    b.add(aapl);
    b.add({ symbol: "BTC-USD", throttleMs: 1000 });
    await turn();
    expect(log).toEqual([
      "SUBSCRIBE /topic/tickers batch-1 AAPL,MSFT AAPL:e1:7 -",
      "SUBSCRIBE /topic/tickers batch-2 BTC-USD - 1000",
    ]);
    // A change: the old batch ends, the new one resumes every member from its position.
    b.remove(aapl);
    b.add({ symbol: "NVDA", since: "e2:3" });
    await turn();
    expect(log.slice(2)).toEqual(["UNSUBSCRIBE batch-1", "SUBSCRIBE /topic/tickers batch-3 MSFT,NVDA NVDA:e2:3 -"]);
    expect(b.owns("batch-3")).toBe(true);
    expect(b.owns("batch-1")).toBe(false);
  });

  it("read each batch's entries with its own reader and hand them to their members", async () => {
    const { b, subs, got } = batches();
    const bbb = { symbol: "BBB" };
    b.add({ symbol: "AAA" });
    b.add(bbb);
    await turn();
    const whole = (symbol: string) => buildTickFrame({ ...ticks(1)[0]!, symbol, seq: 4 }, "e1").compact!.whole;
    const body = (entries: string[]) => `[${entries.join(",")}]`;
    subs[0]!.onBody(body([wholeEntry(4, "e1", whole("AAA"), { kind: "replay" })]));
    b.remove(bbb);
    // The old batch still carries BBB until it ends: no member hears it.
    subs[0]!.onBody(body([wholeEntry(4, "e1", whole("BBB")), deltaEntry('"p":1.5', symbolPair("AAA"))]));
    expect(got.map(([s, d]) => [s, (d as Decoded<Tick>).position, (d as Decoded<Tick>).arrival.kind])).toEqual([
      ["AAA", { epoch: "e1", seq: 4 }, "replayed"],
      ["AAA", { epoch: "e1", seq: 5 }, "live"],
    ]);
    expect((got[1]![1] as Decoded<Tick>).value.price).toBe(1.5);
  });

  it("leave the connection alone while it is down, and forget their batches when it goes", async () => {
    const { b, log, disconnect } = batches();
    const m = { symbol: "AAA" };
    b.add(m);
    await turn();
    b.reset();
    disconnect();
    b.remove(m);
    b.add({ symbol: "BBB" });
    await turn();
    expect(log).toEqual(["SUBSCRIBE /topic/tickers batch-1 AAA - -"]);
  });
});
