/**
 * The compact form and watchlist batches on the real runtime: clients that do not ask for
 * them get today's frames byte for byte (@stomp/stompjs, and a raw client speaking as
 * webstomp-client does); a compact subscription and a batch, dropped and resumed with
 * `x-since`, then resumed again after the server restarts, read back exactly the ticks a plain
 * subscription sees, field by field.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type IMessage } from "@stomp/stompjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TICKS_KIND } from "../../worker/protocol/compact/fields";
import { CompactReader, type DecodedEntry } from "../../worker/protocol/compact/reader";
import { header } from "../../worker/protocol/stomp/frame";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import { bodyOf, RawStomp } from "../support/raw-stomp";
import { connectStomp, sleep } from "../support/stomp";

const TOKEN = "test-publish-token";
const VARS = { TICK_INTERVAL_MS: "3600000", PUBLISH_HOLD_MS: "3600000", HEARTBEAT_MS: "0", HUB_SHARDS: "2" };
const persistDir = mkdtempSync(join(tmpdir(), "edge-ticker-compact-"));
let srv: DevServer;

beforeAll(async () => {
  srv = await startDevServer({ vars: VARS, persistDir });
});
afterAll(async () => {
  await srv?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

let step = 0;
/** One round of ticks with the fields a feed sends (price, day volume, bid, ask; the high sometimes). */
async function publishRound(symbols: readonly string[]): Promise<void> {
  step++;
  const ticks = symbols.map((symbol, i) => {
    const price = Math.round((100 + i * 10 + Math.sin(step) * 2) * 100) / 100;
    return {
      symbol,
      price,
      volume: 10_000 + step * 150 + i,
      bid: Math.round((price - 0.02) * 100) / 100,
      ask: Math.round((price + 0.02) * 100) / 100,
      marketState: "REGULAR",
      ...(step % 4 === 0 ? { high: price + 5 } : {}),
    };
  });
  const res = await postTicks(srv.url, ticks, TOKEN);
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Today's MESSAGE frame of a tick, written out by hand: what clients that do not ask for more must keep getting. */
function golden(sub: string, body: string, epoch: string, ack?: string): string {
  const tick = JSON.parse(body) as { symbol: string; seq: number };
  const json = JSON.stringify(tick);
  return (
    `MESSAGE\nsubscription:${sub}\n${ack === undefined ? "" : `ack:${ack}\n`}destination:/topic/ticker.${tick.symbol}\n` +
    `message-id:${tick.symbol}-${tick.seq}\nx-seq:${tick.seq}\nx-epoch:${epoch}\n` +
    `content-type:application/json\ncontent-length:${Buffer.byteLength(json)}\n\n${json}\0`
  );
}

/** Splits what a raw socket received into frames, each with its NUL. */
function rawFrames(messages: readonly string[]): string[] {
  return messages
    .join("")
    .split("\0")
    .filter((f) => f.replace(/^\n+/, "") !== "")
    .map((f) => `${f.replace(/^\n+/, "")}\0`);
}

describe("clients that do not ask for the compact form", () => {
  it("get today's frames byte for byte: @stomp/stompjs, and a raw webstomp-style client on STOMP 1.0, 1.1 and 1.2", async () => {
    const symbol = "PLAINA";
    await publishRound([symbol]);
    // stompjs over ws, the raw text of every WebSocket message kept.
    const seen: string[] = [];
    const client = new Client({
      webSocketFactory: () => {
        const ws = new WebSocket(`${srv.url.replace(/^http/, "ws")}/ws`, ["v12.stomp", "v11.stomp", "v10.stomp"]);
        ws.on("message", (d) => seen.push(d.toString()));
        return ws;
      },
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
    });
    await new Promise<void>((res) => {
      client.onConnect = () => res();
      client.activate();
    });
    const got: IMessage[] = [];
    const sub = client.subscribe(`/topic/ticker.${symbol}`, (m) => got.push(m));
    const acked = client.subscribe(`/topic/ticker.${symbol}`, () => {}, { ack: "client-individual" });
    // webstomp-client's CONNECT: every version offered, its own heart-beats; ids like "sub-0".
    const raws = await Promise.all(["1.0", "1.1", "1.2"].map(() => RawStomp.open(srv.url)));
    for (const [i, r] of raws.entries()) {
      const version = ["1.0", "1.1", "1.2"][i]!;
      await r.connect(version, "heart-beat:0,0\n");
      r.send(`SUBSCRIBE\nid:sub-0\ndestination:/topic/ticker.${symbol}\n\n\0`);
    }
    await expect
      .poll(() => got.length && raws.every((r) => r.frames.some((f) => f.command === "MESSAGE")))
      .toBeTruthy();
    for (let i = 0; i < 4; i++) await publishRound([symbol]);
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(5);
    const epoch = got[0]!.headers["x-epoch"]!;
    const stompFrames = rawFrames(seen).filter((f) => f.startsWith("MESSAGE\n"));
    expect(stompFrames).toHaveLength(10);
    for (const f of stompFrames) {
      const s = /^MESSAGE\nsubscription:([^\n]+)\n/.exec(f)![1]!;
      const body = f.slice(f.indexOf("\n\n") + 2, -1);
      const ack = s === acked.id ? `${JSON.parse(body).symbol}-${JSON.parse(body).seq}` : undefined;
      expect(f).toBe(golden(s, body, epoch, ack));
    }
    expect(new Set(stompFrames.map((f) => /subscription:([^\n]+)/.exec(f)![1]))).toEqual(new Set([sub.id, acked.id]));
    for (const r of raws) {
      await expect.poll(() => r.frames.filter((f) => f.command === "MESSAGE").length).toBe(5);
      const frames = rawFrames(r.raw).filter((f) => f.startsWith("MESSAGE\n"));
      expect(frames).toHaveLength(5);
      for (const f of frames) expect(f).toBe(golden("sub-0", f.slice(f.indexOf("\n\n") + 2, -1), epoch));
      r.close();
    }
    await client.deactivate();
  });
});

/** A raw client subscribed once in the compact form, its bodies read back as the client library does. */
class CompactClient {
  readonly decoded: DecodedEntry[] = [];
  private reader!: CompactReader;
  private raw!: RawStomp;
  private taken = 0;

  constructor(
    private readonly symbols: readonly string[],
    private readonly batch: boolean,
  ) {}

  /** Connects and subscribes, resuming from what it read so far. */
  async open(): Promise<void> {
    this.raw = await RawStomp.open(srv.url);
    await this.raw.connect();
    this.taken = 0;
    // A new SUBSCRIBE starts from a whole entry of each symbol: a new reader.
    this.reader = new CompactReader(TICKS_KIND, this.batch ? undefined : this.symbols[0]);
    const since = this.symbols.flatMap((s) => {
      const last = this.decoded.filter((d) => d.symbol === s).at(-1);
      return last ? [`${this.batch ? `${s}:` : ""}${last.position.epoch}:${last.position.seq}`] : [];
    });
    const headers = this.batch
      ? `destination:/topic/tickers\nx-symbols:${this.symbols.join(",")}\n`
      : `destination:/topic/ticker.${this.symbols[0]}\nx-format:compact\n`;
    this.raw.send(`SUBSCRIBE\nid:c\n${headers}${since.length ? `x-since:${since.join(",")}\n` : ""}\n\0`);
  }

  /** Reads what arrived. */
  take(): void {
    const frames = this.raw.frames.filter((f) => f.command === "MESSAGE");
    for (const f of frames.slice(this.taken)) {
      expect(header(f, "subscription")).toBe("c");
      const body = bodyOf(f);
      this.decoded.push(...(this.batch ? this.reader.batch(body) : [this.reader.single(body)]));
    }
    this.taken = frames.length;
    const errors = this.raw.frames.filter((f) => f.command === "ERROR");
    expect(errors.map((e) => header(e, "message"))).toEqual([]);
  }

  /** The socket dies without a word (a phone going through a tunnel). */
  drop(): void {
    this.take();
    this.raw.ws.terminate();
  }
}

describe("compact subscriptions and batches", () => {
  it("read back the plain ticks field by field across a dropped socket and a server restart", async () => {
    const symbols = ["CMPA", "CMPB", "CMPC"];
    await publishRound(symbols);
    // The plain reference: stompjs, one subscription per symbol, resumed with x-since itself.
    const plain = new Map<string, Map<number, unknown>>(symbols.map((s) => [s, new Map()]));
    const positions = new Map<string, string>();
    const gaps: string[] = [];
    const openPlain = async () => {
      const { client: c } = await connectStomp(srv.url);
      for (const s of symbols) {
        const since = positions.get(s);
        c.subscribe(
          `/topic/ticker.${s}`,
          (m) => {
            const tick = JSON.parse(m.body) as { seq: number };
            if (m.headers["x-gap"]) gaps.push(`${s} ${tick.seq} after ${m.headers["x-gap-count"] ?? "?"}`);
            plain.get(s)!.set(tick.seq, tick);
            positions.set(s, `${m.headers["x-epoch"]}:${m.headers["x-seq"]}`);
          },
          since ? { "x-since": since } : {},
        );
      }
      return c;
    };
    let reference = await openPlain();
    const single = new CompactClient(["CMPB"], false);
    const batch = new CompactClient(symbols, true);
    await Promise.all([single.open(), batch.open()]);
    // Each reader starts from the first round's tick (one published before a snapshot reached its
    // reader would be that reader's first instead: a fresh subscription starts at the newest).
    await expect
      .poll(() => {
        single.take();
        batch.take();
        return [single.decoded.length, batch.decoded.length, [...plain.values()].filter((m) => m.size > 0).length];
      })
      .toEqual([1, 3, 3]);
    const rounds = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await publishRound(symbols);
        await sleep(50);
      }
    };
    await rounds(4);
    // Dropped sockets: ticks go on without them, then they resume from what they read.
    single.drop();
    batch.drop();
    await rounds(4);
    await Promise.all([single.open(), batch.open()]);
    await rounds(4);
    await sleep(500);
    single.take();
    batch.take();
    // A restart: every socket goes; the streams' positions survive in storage.
    await reference.deactivate();
    await srv.stop();
    srv = await startDevServer({ vars: VARS, persistDir });
    reference = await openPlain();
    await Promise.all([single.open(), batch.open()]);
    await sleep(500);
    await rounds(4);
    const last = 17; // the first round and 16 more
    // What each reader still lacks (ticks per symbol, then the batch's entries): none, within 15 s.
    await expect
      .poll(
        () => {
          single.take();
          batch.take();
          const short = [...plain].map(([s, m]) => `${s} ${Math.max(0, last - m.size)}`);
          const unread = symbols.map((s) => {
            const got = new Set(batch.decoded.filter((d) => d.symbol === s).map((d) => d.position.seq));
            return `${s} ${[...plain.get(s)!.keys()].filter((q) => !got.has(q)).join(",")}`;
          });
          return { plain: short, batch: Math.max(0, 3 * last - batch.decoded.length), unread, gaps };
        },
        { timeout: 15_000 },
      )
      .toEqual({ plain: symbols.map((s) => `${s} 0`), batch: 0, unread: symbols.map((s) => `${s} `), gaps: [] });
    await reference.deactivate();

    for (const s of symbols) {
      const want = plain.get(s)!;
      const got = batch.decoded.filter((d) => d.symbol === s);
      // Every tick once, in order, none lost across the drop and the restart.
      expect(got.map((d) => d.position.seq)).toEqual([...want.keys()].sort((a, b) => a - b));
      for (const d of got) expect(d.value, `${s} ${d.position.seq}`).toEqual(want.get(d.position.seq));
    }
    const want = plain.get("CMPB")!;
    expect(single.decoded.map((d) => d.position.seq)).toEqual([...want.keys()].sort((a, b) => a - b));
    for (const d of single.decoded) expect(d.value).toEqual(want.get(d.position.seq));
    // After each resume the first entry is whole and replayed ticks say so.
    expect(batch.decoded.filter((d) => d.arrival.kind === "replayed").length).toBeGreaterThanOrEqual(12);
  });
});
