import { connect } from "node:net";

/** Reads a streaming fetch body by exact lengths, whatever the chunking. */
export class TextStream {
  private buffer = "";
  private done = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(body: ReadableStream<Uint8Array> | null) {
    if (!body) throw new Error("response has no body");
    this.reader = body.getReader();
  }

  /** The next `length` characters (fails if the stream ends first or nothing arrives in time). */
  async take(length: number, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length < length) {
      if (this.done) throw new Error(`stream ended after ${JSON.stringify(this.buffer)}; wanted ${length} chars`);
      await this.pull(deadline - Date.now());
    }
    const out = this.buffer.slice(0, length);
    this.buffer = this.buffer.slice(length);
    return out;
  }

  /** Everything up to and including `marker`. */
  async takeThrough(marker: string, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.buffer.includes(marker)) {
      if (this.done) throw new Error(`stream ended before ${JSON.stringify(marker)}`);
      await this.pull(deadline - Date.now());
    }
    return this.take(this.buffer.indexOf(marker) + marker.length);
  }

  /** Resolves true if the server ends the stream with nothing more to read. */
  async endsEmpty(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.done && this.buffer === "") await this.pull(deadline - Date.now());
    return this.done && this.buffer === "";
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }

  private async pull(timeoutMs: number): Promise<void> {
    if (timeoutMs <= 0) throw new Error(`timed out; have ${JSON.stringify(this.buffer.slice(0, 200))}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(
        () => rej(new Error(`timed out; have ${JSON.stringify(this.buffer.slice(0, 200))}`)),
        timeoutMs,
      );
    });
    try {
      const { value, done } = await Promise.race([this.reader.read(), timeout]);
      if (done) this.done = true;
      else this.buffer += this.decoder.decode(value, { stream: true });
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * An HTTP/1.1 request on a raw socket that returns the response's chunks exactly as
 * framed by chunked transfer-encoding (fetch would hide the chunk boundaries).
 */
export async function rawChunks(
  url: string,
  method: string,
  done: (chunks: string[]) => boolean,
  timeoutMs = 5_000,
): Promise<{ head: string; chunks: string[] }> {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.write(
    `${method} ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  );
  let data = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`timed out: ${data.toString().slice(0, 300)}`)), timeoutMs);
    const finish = (err?: Error, result?: { head: string; chunks: string[] }) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    socket.on("error", (err) => finish(err));
    socket.on("data", (more: Buffer) => {
      data = Buffer.concat([data, more]);
      const split = data.indexOf("\r\n\r\n");
      if (split < 0) return;
      const head = data.subarray(0, split).toString();
      const chunks: string[] = [];
      let at = split + 4;
      while (!done(chunks)) {
        const eol = data.indexOf("\r\n", at);
        if (eol < 0) return;
        const size = parseInt(data.subarray(at, eol).toString(), 16);
        if (data.length < eol + 2 + size + 2) return;
        chunks.push(data.subarray(eol + 2, eol + 2 + size).toString());
        at = eol + 2 + size + 2;
        if (size === 0) break;
      }
      finish(undefined, { head, chunks });
    });
  });
}
