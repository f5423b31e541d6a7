import { afterEach, describe, expect, it, vi } from "vitest";
import { type ServerErrorCode, stompError } from "../../client/src/errors";
import { Positions } from "../../client/src/positions";
import { destinationFor, WIRE_FORMATS } from "../../client/src/streams";
import { feed } from "../../client/src/subscription";
import { expiryOf, TokenKeeper } from "../../client/src/token-keeper";
import { HTTP_ERRORS } from "../../worker/http/errors";
import { STOMP_ERRORS } from "../../worker/protocol/stomp/errors";

describe("resume positions", () => {
  const at = (seq: number, epoch = "e1") => ({ epoch, seq });

  it("delivers each position once, in order, and resumes after the last one delivered", () => {
    const p = new Positions();
    expect(p.since("ticks.AAPL")).toBeUndefined();
    expect(p.accept("ticks.AAPL", at(7), {})).toEqual({ kind: "deliver", arrival: { kind: "live" } });
    expect(p.accept("ticks.AAPL", at(8), { "x-replay": "true" })).toEqual({
      kind: "deliver",
      arrival: { kind: "replayed" },
    });
    // The seam of a resume overlapping what was delivered: dropped.
    expect(p.accept("ticks.AAPL", at(8), {})).toEqual({ kind: "duplicate" });
    expect(p.accept("ticks.AAPL", at(3), {})).toEqual({ kind: "duplicate" });
    expect(p.since("ticks.AAPL")).toBe("e1:8");
    // Streams are apart.
    expect(p.since("bars.AAPL")).toBeUndefined();
  });

  it("reports a gap with the server's count, unknown across epochs", () => {
    const p = new Positions();
    p.accept("ticks.X", at(10), {});
    expect(p.accept("ticks.X", at(40), { "x-gap": "true", "x-gap-count": "29" })).toEqual({
      kind: "deliver",
      arrival: { kind: "gap", missed: 29 },
    });
    // A new epoch (the server lost the stream's state): its positions start over, the loss is unknown.
    expect(p.accept("ticks.X", at(1, "e2"), { "x-gap": "true" })).toEqual({
      kind: "deliver",
      arrival: { kind: "gap", missed: undefined },
    });
    expect(p.since("ticks.X")).toBe("e2:1");
  });

  it("reports an unmarked jump on a stream that carries every position as a gap, and only there", () => {
    const p = new Positions();
    p.accept("ticks.Y", at(5), {}, true);
    expect(p.accept("ticks.Y", at(9), { "x-replay": "true" }, true)).toEqual({
      kind: "deliver",
      arrival: { kind: "gap", missed: 3 },
    });
    expect(p.accept("ticks.Y", at(10), {}, true)).toEqual({ kind: "deliver", arrival: { kind: "live" } });
    // A throttled stream (or bars) skips positions by design.
    p.accept("ticks.Z@1000", at(5), {});
    expect(p.accept("ticks.Z@1000", at(20), {})).toEqual({ kind: "deliver", arrival: { kind: "live" } });
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
