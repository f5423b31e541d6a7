/** The fan-out tree, ordered batching delivery, placement and the connection write path: pure code. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { newSessionState, type Render } from "../../worker/broker/session-state";
import { type SessionBroker, StompSession } from "../../worker/broker/stomp-session";
import { Connection, type ConnectionCarrier } from "../../worker/connections/connection";
import { WriteBatcher } from "../../worker/connections/write-batcher";
import { DeliveryQueues } from "../../worker/fanout/delivery-queue";
import { buildFanoutTree, type FanoutNode, treeShape } from "../../worker/fanout/tree";
import { hubName, probeOrder, regionOf, shardOf } from "../../worker/routing/placement";
import { authenticateSecret, SESSION_LIMITS } from "../support/session-limits";

function leaves(nodes: readonly FanoutNode[]): string[] {
  return nodes.flatMap((n) => ("hub" in n ? [n.hub] : leaves(n.children)));
}

function maxChildren(nodes: readonly FanoutNode[]): number {
  return Math.max(nodes.length, ...nodes.map((n) => ("hub" in n ? 0 : maxChildren(n.children))));
}

describe("fan-out tree", () => {
  it("delivers straight to hubs up to the degree", () => {
    expect(buildFanoutTree("A", ["hub:enam:1", "hub:enam:0"], 2)).toEqual([
      { hub: "hub:enam:0" },
      { hub: "hub:enam:1" },
    ]);
  });

  it("puts relays in between beyond it: 4 hubs at degree 2 make source → 2 relays → 4 hubs", () => {
    const tree = buildFanoutTree("A", ["h0", "h1", "h2", "h3"], 2);
    expect(treeShape(tree)).toEqual({ depth: 2, relays: 2, hubs: 4 });
    expect(tree.map((n) => ("relay" in n ? n.relay : ""))).toEqual(["relay:A:1:0", "relay:A:1:1"]);
  });

  it.each([
    [1, 2],
    [7, 2],
    [33, 32],
    [1000, 32],
    [5000, 8],
  ])("%i hubs at degree %i: no node has more children than the degree, every hub once", (n, degree) => {
    const hubs = Array.from({ length: n }, (_, i) => `hub:enam:${i}`);
    const tree = buildFanoutTree("SYM", hubs, degree);
    expect(maxChildren(tree)).toBeLessThanOrEqual(degree);
    expect(leaves(tree).sort()).toEqual([...hubs].sort());
    expect(treeShape(tree).depth).toBe(Math.max(1, Math.ceil(Math.log(n) / Math.log(degree))));
    // The same set always gives the same tree (relays are stateless and named by position).
    expect(buildFanoutTree("SYM", [...hubs].reverse(), degree)).toEqual(tree);
  });
});

describe("DeliveryQueues", () => {
  it("keeps one call in flight per child, in order, and batches what is pushed in one turn or arrives meanwhile", async () => {
    const calls: Array<[string, number[]]> = [];
    const release: Array<() => void> = [];
    const q = new DeliveryQueues<string, number>(
      (t) => t,
      (target, items) => {
        calls.push([target, items]);
        return new Promise<void>((r) => release.push(r));
      },
    );
    q.push("a", 1);
    q.push("b", 1);
    q.push("a", 2);
    expect(calls).toEqual([]); // sent at the end of the turn
    await Promise.resolve();
    expect(calls).toEqual([
      ["a", [1, 2]],
      ["b", [1]],
    ]);
    q.push("a", 3);
    q.push("a", 4);
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toHaveLength(2); // a's first call is still in flight
    release.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual([
      ["a", [1, 2]],
      ["b", [1]],
      ["a", [3, 4]],
    ]);
    for (const r of release.splice(0)) r();
    await new Promise((r) => setTimeout(r, 0));
    release.shift()?.();
    await q.idle();
    expect(q.pending).toBe(0);
  });

  it("goes on after a failed call", async () => {
    const seen: number[][] = [];
    const q = new DeliveryQueues<string, number>(
      (t) => t,
      async (_t, items) => {
        seen.push(items);
        if (items.includes(1)) throw new Error("down");
      },
    );
    q.push("a", 1);
    await Promise.resolve(); // the first call is under way
    q.push("a", 2);
    await q.idle();
    expect(seen).toEqual([[1], [2]]);
  });
});

describe("placement", () => {
  it("maps a request's location to a hub region", () => {
    expect(regionOf({ continent: "NA", longitude: "-122.4" })).toBe("wnam");
    expect(regionOf({ continent: "NA", longitude: "-74.0" })).toBe("enam");
    expect(regionOf({ continent: "EU", longitude: "2.3" })).toBe("weur");
    expect(regionOf({ continent: "EU", longitude: "37.6" })).toBe("eeur");
    expect(regionOf({ continent: "AS", country: "AE" })).toBe("me");
    expect(regionOf({ continent: "AS", country: "JP" })).toBe("apac");
    expect(regionOf(undefined)).toBe("enam");
    expect(hubName("weur", 3)).toBe("hub:weur:3");
  });

  it("spreads keys over shards and probes every shard once from the first", () => {
    const used = new Set(Array.from({ length: 200 }, (_, i) => shardOf(`session-${i}`, 8)));
    expect(used.size).toBe(8);
    expect(shardOf("abc", 8)).toBe(shardOf("abc", 8));
    expect(probeOrder(2, 4)).toEqual([2, 3, 0, 1]);
  });
});

describe("Connection write path", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const broker: SessionBroker = {
    subscribe: async () => {},
    unsubscribe: async () => {},
    publish: async () => {},
  };

  /** A MESSAGE that is always this text. */
  const text =
    (frame: string): Render =>
    () =>
      frame;

  function connection(kind: "stomp-socket" | "sockjs-socket", batcher = new WriteBatcher(0)) {
    const writes: string[][] = [];
    const closes: Array<[number, string]> = [];
    const carrier: ConnectionCarrier = {
      write: (f) => writes.push([...f]),
      close: (c, r) => closes.push([c, r]),
      save: () => {},
    };
    const conn = new Connection(kind, carrier, batcher);
    conn.session = new StompSession(newSessionState("s"), conn, broker, SESSION_LIMITS, authenticateSecret);
    return { conn, writes, closes };
  }

  it("writes every MESSAGE of a turn as one transport message, across connections", async () => {
    const batcher = new WriteBatcher(0);
    const a = connection("stomp-socket", batcher);
    const b = connection("stomp-socket", batcher);
    for (const c of [a, b]) for (const m of ["M1\0", "M2\0", "M3\0"]) c.conn.queue(text(m), { key: "s1" });
    expect(a.writes).toEqual([]);
    await Promise.resolve();
    expect(a.writes).toEqual([["M1\0", "M2\0", "M3\0"]]);
    expect(b.writes).toEqual([["M1\0", "M2\0", "M3\0"]]);
  });

  it("writes a calm stream at once and spaces a fast one: at most one write per connection per spacing, nothing lost", async () => {
    const batcher = new WriteBatcher(40);
    const { conn, writes } = connection("stomp-socket", batcher);
    conn.queue(text("T1\0"), { key: "s1" });
    await Promise.resolve();
    expect(writes).toEqual([["T1\0"]]); // the first at the end of the turn
    conn.queue(text("T2\0"), { key: "s1" });
    await vi.advanceTimersByTimeAsync(10);
    conn.queue(text("T3\0"), { key: "s1" });
    expect(writes).toEqual([["T1\0"]]); // 10 ms after a write: held back
    await vi.advanceTimersByTimeAsync(50);
    expect(writes).toEqual([["T1\0"], ["T2\0", "T3\0"]]);
    await vi.advanceTimersByTimeAsync(60);
    conn.queue(text("T4\0"), { key: "s1" }); // calm again: written in the same turn
    await Promise.resolve();
    expect(writes).toEqual([["T1\0"], ["T2\0", "T3\0"], ["T4\0"]]);
  });

  it("sends a control frame at once, after what was queued before it", () => {
    const { conn, writes } = connection("stomp-socket");
    conn.queue(text("MESSAGE\0"), { key: "s1" });
    conn.send("RECEIPT\0");
    expect(writes).toEqual([["MESSAGE\0", "RECEIPT\0"]]);
  });

  it("unwraps SockJS socket framing, echoes wrapped heart-beats and drops broken framing", async () => {
    const { conn, writes, closes } = connection("sockjs-socket");
    await conn.receive(JSON.stringify(["\n", "CONNECT\naccept-version:1.2\n\n\0"]));
    expect(writes[0]).toEqual(["\n"]);
    expect(writes[1]![0]).toMatch(/^CONNECTED\n/);
    await conn.receive("not json");
    expect(closes).toEqual([[1002, "Broken framing."]]);
  });

  it("conflates a throttled subscription: the first at once, then only the newest per interval, the last always", async () => {
    const { conn, writes } = connection("stomp-socket");
    const throttle = { key: "sub", everyMs: 80 };
    conn.queue(text("M1\0"), throttle);
    await Promise.resolve();
    for (const m of ["M2\0", "M3\0", "M4\0"]) conn.queue(text(m), throttle);
    conn.queue(text("OTHER\0"), { key: "other" }); // an unthrottled subscription is not held back
    await Promise.resolve();
    expect(writes).toEqual([["M1\0"], ["OTHER\0"]]);
    await vi.advanceTimersByTimeAsync(120);
    expect(writes).toEqual([["M1\0"], ["OTHER\0"], ["M4\0"]]);
    conn.queue(text("M5\0"), throttle);
    conn.discard(throttle); // unsubscribed: what was held back is dropped
    await vi.advanceTimersByTimeAsync(120);
    expect(writes.flat()).not.toContain("M5\0");
  });
});
