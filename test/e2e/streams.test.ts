/**
 * Stream positions on bare workerd (`npm start`) with four hubs: resuming a subscription
 * after a reconnect (`x-since`), gaps that cannot be filled (`x-gap`), the seam between
 * replay and live under load, per-subscription conflation (`x-throttle-ms`) and live viewer
 * counts across hubs. Unmodified @stomp/stompjs, raw `ws` where a client must misbehave.
 */
import type { IMessage } from "@stomp/stompjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import { RawStomp } from "../support/raw-stomp";
import { Collector, type Connected, connectStomp, sleep } from "../support/stomp";

const TOKEN = "test-publish-token";
let srv: DevServer;
beforeAll(async () => {
  srv = await startDevServer({
    runtime: "workerd",
    vars: {
      HUB_SHARDS: "4",
      TICK_INTERVAL_MS: "3600000", // prices only from the test's publishes
      PUBLISH_HOLD_MS: "3600000",
      HISTORY_SIZE: "300",
      MAX_REPLAY: "100",
      HEARTBEAT_MS: "1000",
      INTEREST_DEBOUNCE_MS: "100",
    },
  });
});
afterAll(async () => srv?.stop());

async function publish(symbol: string, prices: number[]): Promise<void> {
  const res = await postTicks(
    srv.url,
    prices.map((price) => ({ symbol, price })),
    TOKEN,
  );
  expect(res.status, await res.clone().text()).toBe(200);
}

const position = (m: IMessage) => ({ epoch: m.headers["x-epoch"]!, seq: Number(m.headers["x-seq"]) });
const seqs = (col: Collector) => col.messages.map((m) => Number(m.headers["x-seq"]));

describe("resuming with x-since", () => {
  it("replays exactly the ticks missed while away, in order, then goes on live", async () => {
    await publish("RESA", [10]);
    const first = await connectStomp(srv.url);
    const col = new Collector(first.client, "/topic/ticker.RESA");
    await col.waitFor(1);
    const last = position(col.messages.at(-1)!);
    expect(last.epoch).toMatch(/^[0-9a-f]{8}$/);
    expect(JSON.parse(col.messages[0]!.body).seq).toBe(last.seq); // the body keeps seq
    await first.disconnect();

    await publish(
      "RESA",
      Array.from({ length: 20 }, (_, i) => 11 + i),
    );
    const again = await connectStomp(srv.url);
    const resumed = new Collector(again.client, "/topic/ticker.RESA", { "x-since": `${last.epoch}:${last.seq}` });
    await resumed.waitFor(20);
    expect(seqs(resumed)).toEqual(Array.from({ length: 20 }, (_, i) => last.seq + 1 + i));
    expect(resumed.ticks.map((t) => t.price)).toEqual(Array.from({ length: 20 }, (_, i) => 11 + i));
    expect(resumed.messages.every((m) => m.headers["x-replay"] === "true")).toBe(true);
    await publish("RESA", [99]);
    await resumed.waitFor(21);
    expect(resumed.messages[20]!.headers["x-replay"]).toBeUndefined();
    expect(seqs(resumed)[20]).toBe(last.seq + 21);
    await sleep(200);
    expect(resumed.messages).toHaveLength(21);
    await again.disconnect();
  });

  it("sends the newest tick marked as a gap when the position is older than the history or from another epoch", async () => {
    await publish(
      "RESB",
      Array.from({ length: 150 }, (_, i) => 100 + i),
    ); // more than MAX_REPLAY
    const c = await connectStomp(srv.url);
    const probe = new Collector(c.client, "/topic/ticker.RESB");
    await probe.waitFor(1);
    const { epoch, seq } = position(probe.messages[0]!);

    const far = new Collector(c.client, "/topic/ticker.RESB", { "x-since": `${epoch}:${seq - 140}` });
    const foreign = new Collector(c.client, "/topic/ticker.RESB", { "x-since": `0ldepoch:${seq - 2}` });
    await Promise.all([far.waitFor(1), foreign.waitFor(1)]);
    await sleep(200);
    for (const col of [far, foreign]) {
      expect(col.messages).toHaveLength(1);
      expect(col.messages[0]!.headers["x-gap"]).toBe("true");
      expect(Number(col.messages[0]!.headers["x-seq"])).toBe(seq);
    }
    expect(far.messages[0]!.headers["x-gap-count"]).toBe("139");
    expect(foreign.messages[0]!.headers["x-gap-count"]).toBeUndefined();
    await c.disconnect();
  });

  it("neither loses nor repeats a tick at the seam while ticks keep coming and 50 clients resume", async () => {
    await publish("SEAM", [1]);
    const watcher = await connectStomp(srv.url);
    const probe = new Collector(watcher.client, "/topic/ticker.SEAM");
    await probe.waitFor(1);
    const since = position(probe.messages[0]!);
    let stop = false;
    let price = 1;
    const publisher = (async () => {
      while (!stop) {
        await publish("SEAM", [++price]);
        await sleep(15);
      }
    })();
    await sleep(300);
    const clients: Connected[] = await Promise.all(Array.from({ length: 50 }, () => connectStomp(srv.url)));
    const cols = clients.map(
      (c) => new Collector(c.client, "/topic/ticker.SEAM", { "x-since": `${since.epoch}:${since.seq}` }),
    );
    await sleep(1_500);
    stop = true;
    await publisher;
    const finalSeq = since.seq + (price - 1);
    await expect.poll(() => cols.every((col) => seqs(col).at(-1) === finalSeq), { timeout: 10_000 }).toBe(true);
    for (const col of cols)
      expect(seqs(col)).toEqual(Array.from({ length: finalSeq - since.seq }, (_, i) => since.seq + 1 + i));
    await Promise.all([...clients, watcher].map((c) => c.disconnect()));
  });
});

describe("conflation with x-throttle-ms", () => {
  it("sends 3 to 5 frames a second of a symbol published at 100 ticks/s, always newer, the last one the last tick", async () => {
    await publish("FAST", [1]);
    const c = await connectStomp(srv.url);
    const col = new Collector(c.client, "/topic/ticker.FAST", { "x-throttle-ms": "250" });
    const all = new Collector(c.client, "/topic/ticker.FAST");
    await Promise.all([col.waitFor(1), all.waitFor(1)]);
    const start = Date.now();
    let price = 1;
    for (let i = 0; i < 20; i++) {
      // 10 ticks every 100 ms: 100 ticks/s.
      await publish(
        "FAST",
        Array.from({ length: 10 }, () => (price += 0.01)),
      );
      await sleep(Math.max(0, start + (i + 1) * 100 - Date.now()));
    }
    const seconds = (Date.now() - start) / 1000;
    await sleep(600); // the trailing frame of the burst
    const perSecond = (col.messages.length - 1) / seconds;
    expect(perSecond, `${col.messages.length - 1} frames in ${seconds} s`).toBeGreaterThanOrEqual(3);
    expect(perSecond).toBeLessThanOrEqual(5.5);
    const s = seqs(col);
    for (let i = 1; i < s.length; i++) expect(s[i]!).toBeGreaterThan(s[i - 1]!);
    // The unthrottled subscription on the same connection got every tick; the throttled one ends on the same.
    await all.waitFor(201);
    expect(s.at(-1)).toBe(seqs(all).at(-1));
    expect(col.ticks.at(-1)!.price).toBe(all.ticks.at(-1)!.price);
    await c.disconnect();
  });

  it("refuses a throttle outside 100 to 60,000 ms with the reason", async () => {
    const raw = await RawStomp.open(srv.url);
    await raw.connect();
    raw.send("SUBSCRIBE\nid:1\ndestination:/topic/ticker.FAST\nx-throttle-ms:20\n\n\0");
    const error = await raw.next("ERROR");
    expect(error.headers).toContainEqual(["message", "Invalid x-throttle-ms header"]);
    await raw.waitClosed();
  });
});

describe("viewer counts", () => {
  async function viewers(symbol: string): Promise<number> {
    return (
      (await (await fetch(`${srv.url}/api/viewers?symbols=${symbol}`)).json()) as { viewers: Record<string, number> }
    ).viewers[symbol]!;
  }

  it("counts subscriptions across hubs within 2 s of opens, closes and connections that died without a close", async () => {
    await publish("VIEW", [5]);
    const watcher = await connectStomp(srv.url);
    const counts = new Collector(watcher.client, "/topic/viewers.VIEW");
    await counts.waitFor(1);
    const latestCount = () => (JSON.parse(counts.messages.at(-1)!.body) as { viewers: number }).viewers;

    const sockets = await Promise.all(Array.from({ length: 100 }, () => RawStomp.open(srv.url)));
    // Heart-beats every 500 ms, as promised in CONNECT; the last 20 will stop sending them.
    await Promise.all(sockets.map((s) => s.connect("1.2", "heart-beat:1000,0\n")));
    const beat = setInterval(() => {
      for (const s of sockets.slice(0, 80)) if (!s.closed) s.send("\n");
    }, 500);
    try {
      for (const s of sockets) s.send("SUBSCRIBE\nid:v\ndestination:/topic/ticker.VIEW\n\n\0");
      let t = Date.now();
      await expect.poll(() => viewers("VIEW"), { timeout: 2_000, interval: 100 }).toBe(100);
      await expect.poll(latestCount, { timeout: 2_000, interval: 100 }).toBe(100);
      expect(Date.now() - t).toBeLessThan(2_000);

      for (const s of sockets.slice(30, 80)) s.close();
      t = Date.now();
      await expect.poll(() => viewers("VIEW"), { timeout: 2_000, interval: 100 }).toBe(50);
      await expect.poll(latestCount, { timeout: 2_000, interval: 100 }).toBe(50);

      // The last 20 stopped their heart-beats without closing: gone after the timeout (2 × 1 s + 2 s grace, swept every second).
      await expect.poll(() => viewers("VIEW"), { timeout: 5_000 + 2_000, interval: 200 }).toBe(30);
      for (const s of sockets.slice(80)) expect(s.closed?.code).toBe(4000);
      await expect.poll(latestCount, { timeout: 2_000, interval: 100 }).toBe(30);
    } finally {
      clearInterval(beat);
      for (const s of sockets) s.close();
      await watcher.disconnect();
    }
  });
});
