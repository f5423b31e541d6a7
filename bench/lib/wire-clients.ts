import WebSocket from "ws";
import { openInBatches } from "./stomp-clients";

/**
 * Watchlist clients of `npm run bench:wire`, one per wire form, and what they count: bytes
 * received, ticks (a compact or batch entry is a tick like a plain MESSAGE), and each tick's
 * latency from its time. Compact entries carry times as differences from the previous entry
 * of their stream: each client keeps its streams' last time, as a real reader would.
 */
export type Form = "plain" | "compact" | "batched";

/** The SUBSCRIBE frames of a watchlist in each form. */
export function subscribeFrames(form: Form, symbols: readonly string[], destination = "/topic/ticker."): string {
  switch (form) {
    case "plain":
      return symbols.map((s, i) => `SUBSCRIBE\nid:${i}\ndestination:${destination}${s}\n\n\0`).join("");
    case "compact":
      return symbols
        .map((s, i) => `SUBSCRIBE\nid:${i}\ndestination:${destination}${s}\nx-format:compact\n\n\0`)
        .join("");
    case "batched":
      return `SUBSCRIBE\nid:w\ndestination:/topic/tickers\nx-symbols:${symbols.join(",")}\n\n\0`;
  }
}

/** WebSocket framing of a server message (unmasked): 2 bytes up to 125, 4 up to 65,535, else 10. */
export function wsOverhead(bytes: number): number {
  return bytes <= 125 ? 2 : bytes <= 65_535 ? 4 : 10;
}

/** What every client of a run received while the window was open. */
export class WireTally {
  ticks = 0;
  messages = 0;
  /** STOMP text received (UTF-8 bytes of the WebSocket messages that carried counted ticks). */
  bytes = 0;
  /** The same with each WebSocket message's framing. */
  wireBytes = 0;
  latencies: number[] = [];
  /** Distinct tick times seen (a round's ticks share one). */
  readonly rounds = new Set<number>();
  private from = Number.POSITIVE_INFINITY;
  private to = Number.POSITIVE_INFINITY;

  /** Counts ticks with `from <= ts <= to` from now on (earlier counts are dropped). */
  open(from: number, to: number): void {
    this.ticks = this.messages = this.bytes = this.wireBytes = 0;
    this.latencies = [];
    this.rounds.clear();
    this.from = from;
    this.to = to;
  }

  close(): void {
    this.from = this.to = Number.POSITIVE_INFINITY;
  }

  /** One WebSocket message and the tick times found in it. */
  add(bytes: number, times: readonly number[], now: number): void {
    let counted = false;
    for (const ts of times) {
      if (ts < this.from || ts > this.to) continue;
      counted = true;
      this.ticks++;
      this.rounds.add(ts);
      this.latencies.push(now - ts);
    }
    if (!counted) return;
    this.messages++;
    this.bytes += bytes;
    this.wireBytes += bytes + wsOverhead(bytes);
  }
}

/** Tick times in one client's messages, by form; compact streams keep their last time. */
export class TimeReader {
  private readonly last = new Map<string, number>();

  constructor(private readonly form: Form) {}

  times(text: string): number[] {
    if (this.form === "plain") {
      const out: number[] = [];
      for (let at = text.indexOf('"ts":'); at >= 0; at = text.indexOf('"ts":', at + 5))
        out.push(Number(text.slice(at + 5, text.indexOf(",", at))));
      return out;
    }
    const out: number[] = [];
    for (const frame of text.split("\0")) {
      const start = frame.indexOf("\n\n");
      if (!frame.includes("MESSAGE\n") || start < 0) continue;
      const body = JSON.parse(frame.slice(start + 2)) as Entry | Entry[];
      const sub = /subscription:([^\n]*)/.exec(frame)![1]!;
      for (const e of Array.isArray(body) ? body : [body]) out.push(this.timeOf(Array.isArray(body) ? e.s! : sub, e));
    }
    return out;
  }

  private timeOf(stream: string, e: Entry): number {
    // A whole entry (with its epoch) carries the time; a delta the difference, or nothing when it did not change.
    const ts = e.e !== undefined ? e.t! : (this.last.get(stream) ?? 0) + (e.t ?? 0);
    this.last.set(stream, ts);
    return ts;
  }
}

interface Entry {
  e?: string;
  s?: string;
  t?: number;
}

/**
 * One raw STOMP 1.2 client (no heart-beats) subscribed to `symbols` in `form`; resolves once
 * CONNECTED came back and the subscriptions went out.
 */
export function openWireClient(
  url: string,
  form: Form,
  symbols: readonly string[],
  tally: WireTally,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["v12.stomp"]);
    const reader = new TimeReader(form);
    let connected = false;
    ws.on("open", () => ws.send("CONNECT\naccept-version:1.2\nhost:bench\nheart-beat:0,0\n\n\0"));
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      if (!connected) {
        if (!text.startsWith("CONNECTED")) return reject(new Error(`expected CONNECTED, got ${text.slice(0, 120)}`));
        connected = true;
        ws.send(subscribeFrames(form, symbols));
        return resolve(ws);
      }
      if (text.startsWith("ERROR")) console.error(`${form} client: ${text.slice(0, 200)}`);
      tally.add(data.length, reader.times(text), Date.now());
    });
    ws.on("error", reject);
  });
}

/** Opens `count` clients, 250 at a time; `symbolsOf(i)` is client i's watchlist. */
export function openWireClients(
  url: string,
  form: Form,
  count: number,
  symbolsOf: (i: number) => readonly string[],
  tally: WireTally,
): Promise<WebSocket[]> {
  return openInBatches(count, 250, (i) => openWireClient(url, form, symbolsOf(i), tally));
}
