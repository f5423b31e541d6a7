import WebSocket from "ws";
import { FrameDecoder } from "../../worker/protocol/stomp/decoder";
import { type Frame, header } from "../../worker/protocol/stomp/frame";

const SERVER_COMMANDS = new Set(["CONNECTED", "MESSAGE", "RECEIPT", "ERROR"]);

/** A bare `ws` socket that speaks hand-written STOMP, for the cases a well-behaved client never sends. */
export class RawStomp {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  readonly decoder = new FrameDecoder({ maxFrameBytes: 1 << 20, commands: SERVER_COMMANDS });
  closed?: { code: number; reason: string };
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString() : data.toString();
      this.raw.push(text);
      this.frames.push(...this.decoder.push(text));
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  /** Opens /ws (or the older /ws/{home}); `headers` as a proxy in front would add (CF-Connecting-IP). */
  static open(
    baseUrl: string,
    home?: string,
    origin?: string,
    headers: Record<string, string> = {},
  ): Promise<RawStomp> {
    const ws = new WebSocket(
      `${baseUrl.replace(/^http/, "ws")}/ws${home === undefined ? "" : `/${home}`}`,
      ["v12.stomp"],
      {
        headers: { ...headers, ...(origin ? { Origin: origin } : {}) },
      },
    );
    return new Promise((res, rej) => {
      ws.once("open", () => res(new RawStomp(ws)));
      ws.once("error", rej);
      ws.once("unexpected-response", (_req, resp) => rej(new Error(`HTTP ${resp.statusCode}`)));
    });
  }

  send(text: string): void {
    this.ws.send(text);
  }

  async connect(version = "1.2", extra = ""): Promise<Frame> {
    this.send(`CONNECT\naccept-version:${version}\nhost:localhost\n${extra}\n\0`);
    const frame = await this.next("CONNECTED");
    this.decoder.version = header(frame, "version") as "1.0" | "1.1" | "1.2";
    return frame;
  }

  /** Waits for the next frame with `command` (or any), consuming frames before it. */
  async next(command?: string, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex((f) => !command || f.command === command);
      if (i >= 0) return this.frames.splice(0, i + 1)[i]!;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) before ${command ?? "a frame"}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${command ?? "frame"} within ${timeoutMs} ms; raw: ${JSON.stringify(this.raw.slice(-3))}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("socket did not close");
      await new Promise<void>((res) => {
        const t = setTimeout(res, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export function bodyOf(frame: Frame): string {
  return new TextDecoder().decode(frame.body);
}
