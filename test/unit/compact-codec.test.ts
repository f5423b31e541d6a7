/**
 * The compact form's codec and entries, property-style: random tick and bar sequences, each
 * subscription receiving a random subset (skips, as conflation makes them), encoded whole or
 * as deltas from what that subscription last received and decoded back: always the plain
 * body, field by field.
 */
import { describe, expect, it } from "vitest";
import { decodeFields, encodeDelta, encodeWhole } from "../../worker/protocol/compact/codec";
import { batchBody, deltaEntry, type Marker, symbolPair, wholeEntry } from "../../worker/protocol/compact/entry";
import {
  BAR_FIELDS,
  BARS_KIND,
  CONTROL_KEYS,
  type MessageKind,
  type Rec,
  TICK_FIELDS,
  TICKS_KIND,
} from "../../worker/protocol/compact/fields";
import { CompactError, CompactReader } from "../../worker/protocol/compact/reader";
import { prng } from "../support/prng";

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/** A random walk of ticks as a server would number them, with fields coming and going. */
function tickSequence(rand: () => number, length: number, symbol = "AAPL"): Rec[] {
  const ticks: Rec[] = [];
  let price = round(10 + rand() * 500, 2);
  let prevClose = round(price * (1 + (rand() - 0.5) * 0.03), 2);
  let ts = 1_795_263_600_000 + Math.floor(rand() * 1e6);
  let dayVolume: number | undefined = rand() < 0.8 ? Math.floor(rand() * 1e7) : undefined;
  let high = price;
  let low = price;
  const delayed = rand() < 0.3;
  for (let seq = 1 + Math.floor(rand() * 1000), i = 0; i < length; i++, seq++) {
    const stale = rand() < 0.05 && ticks.length > 0;
    if (!stale) {
      price = Math.max(0.01, round(price + (rand() - 0.5) * 0.2, rand() < 0.1 ? 4 : 2));
      ts += rand() < 0.1 ? -Math.floor(rand() * 50) : Math.floor(rand() * 2000);
      high = Math.max(high, price);
      low = Math.min(low, price);
      if (rand() < 0.02) prevClose = price; // a new trading day
    }
    const size = rand() < 0.7 ? Math.floor(rand() * 5000) : rand() < 0.5 ? 0 : undefined;
    if (dayVolume !== undefined && rand() < 0.9) dayVolume += size ?? 0;
    else if (rand() < 0.1) dayVolume = rand() < 0.3 ? undefined : Math.floor(rand() * 1e7) + 0.5;
    const change = round(price - prevClose, 6);
    const t: Rec = {
      symbol,
      price,
      // Mostly as the server derives them; sometimes a provider's own figure.
      change: rand() < 0.05 ? change + 0.01 : change,
      changePercent: round((change / prevClose) * 100, 4),
      ts,
      seq,
      source: rand() < 0.95 ? "sim" : "publish",
      prevClose,
      open: ticks.length === 0 ? price : (ticks[0]!.open as number),
      high,
      low,
      ...(dayVolume === undefined ? {} : { dayVolume, volume: rand() < 0.97 ? dayVolume : dayVolume + 1 }),
      ...(size === undefined ? {} : { size }),
      ...(rand() < 0.9 ? { bid: round(price - 0.01, 2), ask: round(price + 0.01, 2) } : {}),
      currency: "USD",
      marketState: rand() < 0.95 ? "REGULAR" : "POST",
      staleAfterMs: rand() < 0.95 ? 30_000 : 120_000,
      ...(stale ? { stale: true } : {}),
      ...(rand() < 0.02 ? { gap: true } : {}),
      ...(rand() < 0.02 ? { volume24h: rand() * 1e6 } : {}),
      ...(delayed ? { delayed: true, delayMs: 900_000 } : {}),
    };
    // What a plain subscriber sees: the JSON of it.
    ticks.push(JSON.parse(JSON.stringify(t)) as Rec);
  }
  return ticks;
}

function barSequence(rand: () => number, length: number): Rec[] {
  const out: Rec[] = [];
  let t = 1_795_263_600_000 - (1_795_263_600_000 % 60_000);
  let bar = { t, o: 100, h: 100, l: 100, c: 100, v: 0, n: 0 };
  for (let i = 0; i < length; i++) {
    const final = rand() < 0.2;
    const c = round(bar.c + (rand() - 0.5), 2);
    bar = {
      ...bar,
      c,
      h: Math.max(bar.h, c),
      l: Math.min(bar.l, c),
      v: bar.v + Math.floor(rand() * 900),
      n: bar.n + 1,
    };
    out.push({ symbol: "AAPL", interval: "1m", ...bar, final, ...(rand() < 0.05 ? { corrected: true } : {}) });
    if (final) {
      t += 60_000 * (1 + Math.floor(rand() * 3));
      bar = { t, o: c, h: c, l: c, c, v: 0, n: 0 };
    }
  }
  return out;
}

/** Encodes what one subscription receives (a subset of `all`) as the server would, and decodes it. */
function roundTrip(kind: MessageKind, all: Rec[], keep: (i: number) => boolean): { sent: Rec[]; got: Rec[] } {
  const sent: Rec[] = [];
  const got: Rec[] = [];
  let base: Rec | undefined;
  let decoded: Rec | undefined;
  all.forEach((rec, i) => {
    if (!keep(i)) return;
    const delta = base && encodeDelta(kind, base, rec);
    const fields = delta ?? encodeWhole(kind, rec);
    const entry = JSON.parse(`{${fields}}`) as Rec;
    decoded = decodeFields(kind, entry, delta === undefined ? undefined : decoded, rec.seq as number | undefined);
    sent.push(rec);
    got.push(decoded);
    base = rec;
  });
  return { sent, got };
}

describe("compact codec, property-style", () => {
  it("gives back every tick field by field, whole or as deltas, whatever a subscription skips", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = prng(seed);
      const ticks = tickSequence(rand, 60);
      const skip = rand() * 0.7;
      const { sent, got } = roundTrip(TICKS_KIND, ticks, () => rand() >= skip);
      expect(got, `seed ${seed}`).toEqual(sent);
    }
  });

  it("gives back every bar update, unknown fields (a correction marker) under their own names", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rand = prng(seed);
      const bars = barSequence(rand, 40);
      const { sent, got } = roundTrip(BARS_KIND, bars, () => rand() >= 0.3);
      expect(got, `seed ${seed}`).toEqual(sent);
    }
  });

  it("leaves out what a reader works out, and what did not change", () => {
    const [a, b] = [
      { symbol: "AAPL", price: 100, prevClose: 99, change: 1, changePercent: 1.0101, ts: 1000, seq: 7, dayVolume: 50 },
      { symbol: "AAPL", price: 100.5, prevClose: 99, change: 1.5, changePercent: 1.5152, ts: 2000, seq: 8 },
    ].map((t) => ({ ...t, size: 10, volume: t.dayVolume }));
    expect(encodeWhole(TICKS_KIND, a!)).toBe('"s":"AAPL","p":100,"c":99,"t":1000,"v":50,"z":10');
    // dayVolume gone: said with null, and for volume, its alias (which a reader would otherwise keep).
    expect(encodeDelta(TICKS_KIND, a!, b!)).toBe('"p":100.5,"t":1000,"vo":null,"v":null');
    // A volume without a day volume (before feeds report one) is not repeated while it stays.
    const { dayVolume: _d, ...old } = a!;
    expect(encodeDelta(TICKS_KIND, old, { ...old, seq: 8, ts: 2000 })).toBe('"t":1000');
    const c = { ...a!, seq: 8, ts: 2000, dayVolume: 60, volume: 60 };
    expect(encodeDelta(TICKS_KIND, a!, c)).toBe('"t":1000');
    // The same figures again, but 10 more traded by `size`: the day volume is said, as it did not grow.
    expect(encodeDelta(TICKS_KIND, a!, { ...a!, seq: 8 })).toBe('"v":50');
    expect(encodeDelta(TICKS_KIND, a!, { ...a!, seq: 8, size: 0 })).toBe('"z":0');
    const { size: _, ...noSize } = a!;
    expect(encodeDelta(TICKS_KIND, noSize, { ...noSize, seq: 8 })).toBe("");
    // A time that is not a whole number of ms cannot be a delta: the writer sends the whole.
    expect(encodeDelta(TICKS_KIND, a!, { ...a!, ts: 1000.5 })).toBeUndefined();
  });

  it("keeps keys apart: no two rows share a key, none is a control key or another row's name", () => {
    for (const fields of [TICK_FIELDS, BAR_FIELDS]) {
      const rows = Object.entries(fields) as Array<[string, { key: string }]>;
      const keys = rows.filter(([name]) => name !== "seq").map(([, r]) => r.key);
      expect(new Set(keys).size).toBe(keys.length);
      for (const key of keys) expect(Object.values(CONTROL_KEYS)).not.toContain(key);
      for (const [name, rule] of rows) if (keys.includes(name)) expect(rule.key).toBe(name);
    }
  });
});

describe("compact entries and the reader", () => {
  const EPOCH = "3f2a9c1e";

  it("reads a batch: whole entries, deltas with implied seq, an explicit seq after a skip, markers", () => {
    const rand = prng(7);
    const aapl = tickSequence(rand, 5, "AAPL");
    const msft = tickSequence(rand, 5, "MSFT");
    const whole = (t: Rec, marker?: Marker) => wholeEntry(t.seq as number, EPOCH, encodeWhole(TICKS_KIND, t), marker);
    const delta = (b: Rec, t: Rec, seq?: number, marker?: Marker) =>
      deltaEntry(encodeDelta(TICKS_KIND, b, t)!, symbolPair(t.symbol as string), seq, marker);
    const reader = new CompactReader(TICKS_KIND);
    const first = reader.batch(batchBody([whole(aapl[0]!, { kind: "gap", missed: 3 }), whole(msft[0]!)]));
    expect(first.map((e) => [e.symbol, e.arrival])).toEqual([
      ["AAPL", { kind: "gap", missed: 3 }],
      ["MSFT", { kind: "live" }],
    ]);
    expect(first.map((e) => e.value)).toEqual([aapl[0], msft[0]]);
    const second = reader.batch(
      batchBody([
        delta(aapl[0]!, aapl[1]!, undefined, { kind: "replay" }),
        delta(msft[0]!, msft[3]!, msft[3]!.seq as number),
        delta(aapl[1]!, aapl[2]!),
      ]),
    );
    expect(second.map((e) => e.value)).toEqual([aapl[1], msft[3], aapl[2]]);
    expect(second.map((e) => e.position)).toEqual([
      { epoch: EPOCH, seq: aapl[1]!.seq },
      { epoch: EPOCH, seq: msft[3]!.seq },
      { epoch: EPOCH, seq: aapl[2]!.seq },
    ]);
    expect(second[0]!.arrival).toEqual({ kind: "replayed" });
    const gap = reader.batch(batchBody([whole(aapl[4]!, { kind: "gap" })]));
    expect(gap[0]!.arrival).toEqual({ kind: "gap", missed: undefined });
  });

  it("reads a single-symbol subscription's bodies, and refuses a delta with nothing before it", () => {
    const ticks = tickSequence(prng(9), 3);
    const reader = new CompactReader(TICKS_KIND, "AAPL");
    expect(() => reader.single(deltaEntry(encodeDelta(TICKS_KIND, ticks[0]!, ticks[1]!)!))).toThrow(CompactError);
    expect(reader.single(wholeEntry(ticks[0]!.seq as number, EPOCH, encodeWhole(TICKS_KIND, ticks[0]!))).value).toEqual(
      ticks[0],
    );
    const d = reader.single(deltaEntry(encodeDelta(TICKS_KIND, ticks[0]!, ticks[1]!)!));
    expect(d.value).toEqual(ticks[1]);
    expect(d.position.seq).toBe(ticks[1]!.seq);
    expect(() => reader.batch("{}")).toThrow(CompactError);
  });
});
