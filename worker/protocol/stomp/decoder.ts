import { echo } from "../echo";
import { StompError } from "./errors";
import { unescapeHeader } from "./escape";
import { CLIENT_COMMANDS, escapesHeaders, type Frame, type StompVersion } from "./frame";

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export interface DecoderOptions {
  /** Largest frame (command, headers and body) accepted, in bytes. */
  maxFrameBytes: number;
  /** Commands this side accepts; anything else fails as soon as its line is complete. */
  commands?: ReadonlySet<string>;
  maxHeaders?: number;
}

/**
 * Incremental STOMP frame decoder. Bytes go in as they arrive (frames may be split
 * over, or packed into, transport messages); complete frames come out. EOLs between
 * frames are heart-beats and are skipped. Pure: no I/O, no timers.
 */
export class FrameDecoder {
  /** Governs header unescaping; the session sets it once CONNECT negotiated a version. */
  version: StompVersion = "1.2";
  private buf: Uint8Array = EMPTY;
  private readonly commands: ReadonlySet<string>;
  private readonly longestCommand: number;

  constructor(private readonly options: DecoderOptions) {
    this.commands = options.commands ?? CLIENT_COMMANDS;
    this.longestCommand = Math.max(...[...this.commands].map((c) => c.length));
  }

  /** Bytes buffered towards an incomplete frame. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: string | ArrayBuffer | Uint8Array): Frame[] {
    const bytes =
      typeof chunk === "string" ? utf8.encode(chunk) : chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
    this.buf = this.buf.length === 0 ? bytes : concat(this.buf, bytes);
    const frames: Frame[] = [];
    let pos = 0;
    for (;;) {
      while (pos < this.buf.length && (this.buf[pos] === LF || this.buf[pos] === CR)) pos++;
      if (pos >= this.buf.length) break;
      const decoded = this.decodeAt(pos);
      if (!decoded) break;
      frames.push(decoded.frame);
      pos = decoded.end;
    }
    this.buf = pos >= this.buf.length ? EMPTY : this.buf.subarray(pos);
    return frames;
  }

  /** Decodes one frame starting at `start`, or returns undefined when more bytes are needed. */
  private decodeAt(start: number): { frame: Frame; end: number } | undefined {
    const buf = this.buf;
    const max = this.options.maxFrameBytes;
    const available = buf.length - start;

    const commandEnd = buf.indexOf(LF, start);
    if (commandEnd < 0) {
      // A command line longer than any command can never become valid: fail now, not at the size limit.
      if (available > this.longestCommand + 1) throw unknownCommand(buf.subarray(start, start + 32));
      return undefined;
    }
    const command = decodeText(stripCr(buf.subarray(start, commandEnd)));
    if (!this.commands.has(command)) throw unknownCommand(utf8.encode(command));

    // Header lines run until the first empty line.
    const lines: Uint8Array[] = [];
    let lineStart = commandEnd + 1;
    let headerEnd = -1;
    for (;;) {
      const lf = buf.indexOf(LF, lineStart);
      if (lf < 0) break;
      const line = stripCr(buf.subarray(lineStart, lf));
      lineStart = lf + 1;
      if (line.length === 0) {
        headerEnd = lineStart;
        break;
      }
      lines.push(line);
      if (lines.length > (this.options.maxHeaders ?? 100)) {
        throw new StompError(
          "too-many-headers",
          `A frame may carry at most ${this.options.maxHeaders ?? 100} headers.`,
        );
      }
    }
    if (headerEnd < 0) {
      if (available > max) throw tooLarge(max);
      return undefined;
    }

    const escaped = escapesHeaders(this.version, command);
    const headers = lines.map((line) => {
      const text = decodeText(line);
      const colon = text.indexOf(":");
      if (colon <= 0) throw new StompError("malformed-header", `Expected "name:value", got "${echo(text)}".`);
      const name = text.slice(0, colon);
      const value = text.slice(colon + 1);
      return escaped
        ? ([unescapeHeader(name, this.version), unescapeHeader(value, this.version)] as const)
        : ([name, value] as const);
    });

    const lengthHeader = headers.find(([k]) => k === "content-length")?.[1];
    let bodyEnd: number;
    if (lengthHeader !== undefined) {
      if (!/^\d{1,10}$/.test(lengthHeader.trim())) {
        throw new StompError("invalid-content-length", `"${echo(lengthHeader)}" is not a byte count.`);
      }
      const length = Number(lengthHeader.trim());
      if (headerEnd - start + length + 1 > max) throw tooLarge(max);
      bodyEnd = headerEnd + length;
      if (buf.length <= bodyEnd) return undefined;
      if (buf[bodyEnd] !== NUL) {
        throw new StompError("frame-not-terminated", "Expected a NUL octet after content-length bytes of body.");
      }
    } else {
      bodyEnd = buf.indexOf(NUL, headerEnd);
      if (bodyEnd < 0) {
        if (available > max) throw tooLarge(max);
        return undefined;
      }
    }
    if (bodyEnd + 1 - start > max) throw tooLarge(max);
    return { frame: { command, headers, body: buf.slice(headerEnd, bodyEnd) }, end: bodyEnd + 1 };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function stripCr(line: Uint8Array): Uint8Array {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

function decodeText(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new StompError("invalid-utf8", "Frame commands and headers must be UTF-8 text.");
  }
}

function unknownCommand(bytes: Uint8Array): StompError {
  return new StompError("unknown-command", `"${echo(new TextDecoder().decode(bytes))}" is not a STOMP client command.`);
}

function tooLarge(max: number): StompError {
  return new StompError("frame-too-large", `Frames are limited to ${max} bytes.`);
}
