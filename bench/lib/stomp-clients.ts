import WebSocket from "ws";

/** The watchlist workload's 100 symbols, and how many of them each client watches. */
export const WATCHLIST_UNIVERSE = Array.from({ length: 100 }, (_, i) => `W${String(i).padStart(3, "0")}`);
export const WATCHLIST_SIZE = 20;

/**
 * Client i's watchlist of `size` distinct symbols of a 100-symbol `universe`, spread so every
 * symbol is watched about equally.
 */
export const spreadWatchlist =
  (universe: readonly string[], size = WATCHLIST_SIZE) =>
  (i: number): string[] =>
    Array.from({ length: size }, (_, j) => universe[(i * 7 + j * 13) % universe.length]!);

/** Client i's watchlist of the workload's universe. */
export const watchlist = spreadWatchlist(WATCHLIST_UNIVERSE);

/** What the bench's clients received, counted while a measuring window is open. */
export class Tally {
  frames = 0;
  messages = 0;
  /** Frames that arrived within `onTimeMs` of their tick. */
  onTime = 0;
  latencies: number[] = [];
  /** Distinct tick times seen (a watchlist round's ticks share one). */
  readonly rounds = new Set<number>();
  private from = Number.POSITIVE_INFINITY;
  private to = Number.POSITIVE_INFINITY;

  constructor(private readonly onTimeMs = 1_000) {}

  /** Starts counting afresh: ticks with `from <= ts <= to` (ticks outside: snapshots, warm-up, stragglers of other runs). */
  open(from: number, to: number): void {
    this.frames = this.messages = this.onTime = 0;
    this.latencies = [];
    this.rounds.clear();
    this.from = from;
    this.to = to;
  }

  /** Stops counting. */
  close(): void {
    this.from = this.to = Number.POSITIVE_INFINITY;
  }

  /** One WebSocket message: every `"ts":` in it is a tick's time (a MESSAGE body is the tick's JSON). */
  take(text: string, now: number): void {
    let counted = false;
    for (let at = text.indexOf('"ts":'); at >= 0; at = text.indexOf('"ts":', at + 5)) {
      const ts = Number(text.slice(at + 5, text.indexOf(",", at)));
      if (ts < this.from || ts > this.to) continue;
      counted = true;
      this.frames++;
      this.rounds.add(ts);
      const latency = now - ts;
      this.latencies.push(latency);
      if (latency <= this.onTimeMs) this.onTime++;
    }
    if (counted) this.messages++;
  }
}

/**
 * Opens one raw STOMP 1.2 client over `ws` (the same bytes for every server under test):
 * CONNECT without heart-beats, then one SUBSCRIBE per symbol in one message. Resolves
 * once CONNECTED came back and the subscriptions went out.
 */
export function openClient(
  url: string,
  symbols: readonly string[],
  tally: Tally,
  throttleMs = 0,
  destination: (symbol: string) => string = (s) => `/topic/ticker.${s}`,
  onMessage?: (text: string) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["v12.stomp"]);
    let connected = false;
    ws.on("open", () => ws.send("CONNECT\naccept-version:1.2\nhost:bench\nheart-beat:0,0\n\n\0"));
    ws.on("message", (data) => {
      const text = data.toString();
      if (!connected) {
        if (!text.startsWith("CONNECTED")) return reject(new Error(`expected CONNECTED, got ${text.slice(0, 120)}`));
        connected = true;
        const throttle = throttleMs > 0 ? `x-throttle-ms:${throttleMs}\n` : "";
        ws.send(symbols.map((s, i) => `SUBSCRIBE\nid:${i}\ndestination:${destination(s)}\n${throttle}\n\0`).join(""));
        return resolve(ws);
      }
      tally.take(text, Date.now());
      onMessage?.(text);
    });
    ws.on("error", reject);
  });
}

/** Opens `count` clients, `batch` at a time; `symbolsOf(i)` is client i's watchlist. */
export async function openClients(
  url: string,
  count: number,
  symbolsOf: (i: number) => readonly string[],
  tally: Tally,
  options: {
    offset?: number;
    throttleMs?: number;
    batch?: number;
    destination?: (symbol: string) => string;
    onMessage?: (text: string) => void;
  } = {},
): Promise<WebSocket[]> {
  const offset = options.offset ?? 0;
  return openInBatches(count, options.batch ?? 250, (i) =>
    openClient(url, symbolsOf(offset + i), tally, options.throttleMs, options.destination, options.onMessage),
  );
}

/** Opens client 0 … count - 1 with `open`, `batch` at a time (a server is not sent thousands of upgrades at once). */
export async function openInBatches(
  count: number,
  batch: number,
  open: (i: number) => Promise<WebSocket>,
): Promise<WebSocket[]> {
  const clients: WebSocket[] = [];
  for (let i = 0; i < count; i += batch) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, j) => open(i + j)))));
  }
  return clients;
}
