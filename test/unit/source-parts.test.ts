/**
 * The parts a symbol's source coordinates, each on its own with fakes and a fake clock:
 * who holds a stream (Holders), the one fan-out every delivery goes through (TreeSender), the
 * delayed stream's releases and the viewer count's reports.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildTickFrame, type StreamFrame } from "../../worker/broker/stream-frame";
import { type HolderStore, Holders } from "../../worker/fanout/holders";
import { type FanoutNode, nodeName } from "../../worker/fanout/tree";
import { TreeSender } from "../../worker/fanout/tree-sender";
import type { Tick } from "../../worker/market/tick";
import { type DelayedHistory, DelayedStream } from "../../worker/objects/source/delayed-stream";
import type { StoredTick } from "../../worker/objects/source/history";
import { Registration } from "../../worker/objects/source/registration";
import { ViewerCounts } from "../../worker/objects/source/viewer-counts";

const T0 = 1_700_000_000_000;
beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

function memoryStore(initial: Array<[string, number]> = []): HolderStore & { rows: Map<string, number> } {
  const rows = new Map(initial);
  return {
    rows,
    load: () => [...rows],
    save: (hub, count) => void rows.set(hub, count),
    remove: (hub) => void rows.delete(hub),
  };
}

const tick = (seq: number, ts = T0): Tick => ({
  symbol: "AAPL",
  price: 100 + seq,
  seq,
  ts,
  source: "test",
  change: 0,
  changePercent: 0,
});

describe("Holders", () => {
  it("keeps counts in its store, tells when the total changes, and rebuilds the tree only when a hub comes or goes", () => {
    const store = memoryStore([["hub:a", 2]]);
    const shapes: unknown[] = [];
    const holders = new Holders(store, "AAPL", 2, (shape) => shapes.push(shape));
    expect(holders.total()).toBe(2);
    expect(holders.set("hub:a", 2)).toBe(false);
    expect(holders.set("hub:a", 3)).toBe(true);
    expect(holders.set("hub:b", 1)).toBe(true);
    expect(holders.set("hub:c", 1)).toBe(true); // a third hub past degree 2: relays
    expect(holders.tree.every((n) => "relay" in n)).toBe(true);
    expect(holders.set("hub:c", 0)).toBe(true);
    expect(holders.set("hub:c", 0)).toBe(false);
    expect([...store.rows]).toEqual([
      ["hub:a", 3],
      ["hub:b", 1],
    ]);
    expect(holders.tree.map(nodeName)).toEqual(["hub:a", "hub:b"]);
    expect(shapes).toEqual([
      { depth: 1, relays: 0, hubs: 1 },
      { depth: 1, relays: 0, hubs: 2 },
      { depth: 2, relays: 2, hubs: 3 },
      { depth: 1, relays: 0, hubs: 2 },
    ]);
    // An evicted owner reads the same holders back.
    expect(new Holders(store, "AAPL", 2).names()).toEqual(["hub:a", "hub:b"]);
  });
});

describe("TreeSender", () => {
  it("sends each frame to every child of its tree, one call in flight per child, what queued meanwhile together, in order", async () => {
    const calls: Array<[string, number[]]> = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const out = new TreeSender(async (node: FanoutNode, frames: StreamFrame[]) => {
      calls.push([nodeName(node), frames.map((f) => f.seq)]);
      if (nodeName(node) === "hub:slow") await gate;
    });
    const tree: FanoutNode[] = [{ hub: "hub:fast" }, { hub: "hub:slow" }];
    out.send(tree, buildTickFrame(tick(1), "e"));
    out.send(tree, buildTickFrame(tick(2), "e"));
    await vi.advanceTimersByTimeAsync(0);
    out.send(tree, buildTickFrame(tick(3), "e"));
    out.send(tree, buildTickFrame(tick(4), "e"));
    await vi.advanceTimersByTimeAsync(0);
    release();
    await out.idle();
    expect(calls.filter(([n]) => n === "hub:fast").map(([, s]) => s)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(calls.filter(([n]) => n === "hub:slow").map(([, s]) => s)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});

describe("DelayedStream", () => {
  function history(rows: StoredTick[]): DelayedHistory {
    return {
      between: (after, before, limit) => rows.filter((r) => r.tick.seq > after && r.tick.seq < before).slice(0, limit),
      arrivedBy: (at, limit) =>
        rows
          .filter((r) => r.arrived <= at)
          .reverse()
          .slice(0, limit)
          .map((r) => r.tick),
    };
  }

  it("starts from the newest tick old enough, releases each later one when it has been here the delay, in order, by arrival not by its own time", () => {
    // Tick 3 carries an old time but arrived late: it waits the whole delay from arrival.
    const rows: StoredTick[] = [
      { tick: tick(1), arrived: T0 - 10_000 },
      { tick: tick(2), arrived: T0 - 6_000 },
      { tick: tick(3, T0 - 60_000), arrived: T0 - 1_000 },
      { tick: tick(4), arrived: T0 - 500 },
    ];
    const emitted: number[] = [];
    const stream = new DelayedStream(
      history(rows),
      5_000,
      () => "e",
      (f) => emitted.push(f.seq),
    );
    stream.release();
    expect(stream.snapshot?.seq).toBe(2);
    expect(emitted).toEqual([]);
    vi.advanceTimersByTime(3_999);
    expect(emitted).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(emitted).toEqual([3]);
    vi.advanceTimersByTime(500);
    expect(emitted).toEqual([3, 4]);
    expect(stream.releasedSeq).toBe(4);
    expect(stream.snapshot?.tail).toContain('"delayed":true');
  });

  it("forgets everything when stopped: no timer left, and a restart begins from the clock", () => {
    const rows: StoredTick[] = [{ tick: tick(1), arrived: T0 - 1_000 }];
    const emitted: number[] = [];
    const stream = new DelayedStream(
      history(rows),
      5_000,
      () => "e",
      (f) => emitted.push(f.seq),
    );
    stream.release();
    stream.stop();
    vi.advanceTimersByTime(10_000);
    expect(emitted).toEqual([]);
    expect(stream.releasedSeq).toBeNull();
    stream.release();
    expect(stream.snapshot?.seq).toBe(1);
  });
});

describe("ViewerCounts", () => {
  it("reports a change at once, then at most once a second, and nothing when the count came back", () => {
    let viewers = 0;
    const frames: number[] = [];
    const counts = new ViewerCounts(
      "AAPL",
      () => viewers,
      (f) => frames.push(JSON.parse(f.tail.slice(f.tail.indexOf("\n\n") + 2, -1)).viewers),
    );
    viewers = 1;
    counts.changed();
    vi.advanceTimersByTime(0);
    expect(frames).toEqual([]); // the first report is a second after the initial frame
    vi.advanceTimersByTime(1_000);
    expect(frames).toEqual([1]);
    for (viewers = 2; viewers <= 100; viewers++) counts.changed();
    viewers = 100;
    vi.advanceTimersByTime(999);
    expect(frames).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(frames).toEqual([1, 100]);
    counts.changed(); // unchanged: nothing
    vi.advanceTimersByTime(2_000);
    expect(frames).toEqual([1, 100]);
    expect(counts.frame.seq).toBeGreaterThan(T0);
  });
});

describe("Registration", () => {
  it("joins the scheduler's active set once while held, leaves once when not, and reports a refusal", async () => {
    const calls: string[] = [];
    let room = true;
    const registration = new Registration("AAPL", () => ({
      activate: async (s) => {
        calls.push(`+${s}`);
        return room ? "ok" : "full";
      },
      deactivate: async (s) => void calls.push(`-${s}`),
      remember: async (s) => void calls.push(`!${s}`),
      forget: async (s) => void calls.push(`?${s}`),
    }));
    expect(await registration.follow(true)).toBe("ok");
    expect(await registration.follow(true)).toBe("ok");
    expect(await registration.follow(false)).toBe("ok");
    expect(await registration.follow(false)).toBe("ok");
    room = false;
    expect(await registration.follow(true)).toBe("full");
    registration.dropped();
    expect(calls).toEqual(["+AAPL", "-AAPL", "+AAPL"]);
  });

  it("tells the scheduler once per instance that a publisher made the symbol real, and forgets it on retirement", async () => {
    const calls: string[] = [];
    const registration = new Registration("PUB", () => ({
      activate: async () => "ok",
      deactivate: async () => {},
      remember: async (s) => void calls.push(`!${s}`),
      forget: async (s) => void calls.push(`?${s}`),
    }));
    await registration.published();
    await registration.published();
    await registration.retired();
    await registration.published();
    expect(calls).toEqual(["!PUB", "?PUB", "!PUB"]);
  });
});
