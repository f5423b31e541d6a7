import { bearerCredential } from "../auth/credentials";
import { normalizeSymbol, SymbolError } from "../market/symbol";
import { echo } from "../protocol/echo";
import { StompError } from "../protocol/stomp/errors";
import { type Frame, header } from "../protocol/stomp/frame";
import { MAX_THROTTLE_MS, MIN_THROTTLE_MS, type StreamPosition } from "./session-state";
import { destinationForm, STREAM_KINDS, STREAMS, type Stream } from "./streams";

/**
 * Reading a client frame's headers for the STOMP session: each reader returns the value
 * or throws the ERROR (with its catalogue code) that says what was wrong. Pure.
 */

/** The token of a CONNECT: its passcode, or an `Authorization: Bearer` header in the frame. */
export function credentialOf(frame: Frame): string | undefined {
  const passcode = header(frame, "passcode");
  if (passcode !== undefined) return passcode;
  const authorization = header(frame, "Authorization") ?? header(frame, "authorization");
  if (authorization === undefined) return undefined;
  const credential = bearerCredential(authorization);
  if (credential === undefined)
    throw new StompError("invalid-authorization", "Expected Authorization: Bearer <token>.");
  return credential;
}

export function missingHeader(command: string, name: string, note = ""): StompError {
  return new StompError("missing-header", `${command} requires a ${name} header${note}.`, {
    message: `Missing header: ${name}`,
  });
}

function invalidHeader(name: string, details: string): StompError {
  return new StompError("invalid-header", details, { message: `Invalid ${name} header` });
}

export function required(frame: Frame, name: string): string {
  const value = header(frame, name);
  if (value === undefined) throw missingHeader(frame.command, name);
  return value;
}

/** A destination parsed by `parse`, or the ERROR "Unknown destination" with the parser's reason. */
export function parseDestination<T>(parse: (destination: string) => T, destination: string): T {
  try {
    return parse(destination);
  } catch (err) {
    if (err instanceof SymbolError) throw new StompError("unknown-destination", err.message);
    throw err;
  }
}

/** The destinations whose messages carry positions (`x-seq`, `x-epoch`). */
const POSITIONED = STREAM_KINDS.filter((k) => STREAMS[k].named && STREAMS[k].positioned)
  .map(destinationForm)
  .join(" and ");

const POSITION = /^([A-Za-z0-9-]{1,36}):(\d{1,15})$/;

/** `x-since:<epoch>:<seq>`: where a resuming client left a ticker or bar stream. */
export function parseSince(value: string | undefined, stream: Stream): StreamPosition | undefined {
  if (value === undefined) return undefined;
  const match = POSITION.exec(value.trim());
  if (!match)
    throw invalidHeader(
      "x-since",
      `Expected "<epoch>:<seq>" from a MESSAGE's x-epoch and x-seq, got "${echo(value, 60)}".`,
    );
  if (!STREAMS[stream.kind].positioned)
    throw invalidHeader("x-since", `x-since applies to ${POSITIONED} subscriptions.`);
  return { epoch: match[1]!, seq: Number(match[2]) };
}

/** `x-format`: `json` (the default) or `compact`; a batch's entries are always compact. */
export function parseFormat(value: string | undefined, batch: boolean): "compact" | undefined {
  const format = value?.trim();
  if (format === "compact" || (format === undefined && batch)) return "compact";
  if (format === undefined || (format === "json" && !batch)) return undefined;
  throw invalidHeader(
    "x-format",
    batch
      ? `A batch's entries are compact, got x-format "${echo(value!)}".`
      : `x-format is json or compact, got "${echo(value!)}".`,
  );
}

/** A batch's `x-symbols:AAPL,MSFT,…`: distinct symbols, at most `max`. */
export function parseSymbols(value: string | undefined, max: number): string[] {
  if (value === undefined) throw missingHeader("SUBSCRIBE", "x-symbols", " (a batch names its symbols)");
  const symbols = value.split(",").map((s) => s.trim());
  try {
    const normal = symbols.map(normalizeSymbol);
    if (new Set(normal).size !== normal.length) throw new SymbolError("a symbol is named twice");
    if (normal.length > max) throw new SymbolError(`at most ${max} symbols`);
    return normal;
  } catch (err) {
    if (err instanceof SymbolError) throw invalidHeader("x-symbols", `x-symbols: ${err.message}.`);
    throw err;
  }
}

/**
 * A batch's `x-since:AAPL:<epoch>:<seq>,MSFT:<epoch>:<seq>`: where a resuming client left
 * each of its symbols (those not named start afresh).
 */
export function parseBatchSince(value: string | undefined, symbols: readonly string[]): Map<string, StreamPosition> {
  const since = new Map<string, StreamPosition>();
  if (value === undefined) return since;
  for (const part of value.split(",")) {
    const colon = part.indexOf(":");
    const match = POSITION.exec(part.slice(colon + 1).trim());
    const symbol = part.slice(0, colon).trim().toUpperCase();
    if (colon < 0 || !match || !symbols.includes(symbol) || since.has(symbol))
      throw invalidHeader(
        "x-since",
        `Expected "<SYMBOL>:<epoch>:<seq>,…" for symbols of x-symbols, got "${echo(part, 60)}".`,
      );
    since.set(symbol, { epoch: match[1]!, seq: Number(match[2]) });
  }
  return since;
}

export function parseThrottle(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || ms < MIN_THROTTLE_MS || ms > MAX_THROTTLE_MS) {
    throw invalidHeader(
      "x-throttle-ms",
      `x-throttle-ms is a whole number of milliseconds from ${MIN_THROTTLE_MS} to ${MAX_THROTTLE_MS}, got "${echo(value)}".`,
    );
  }
  return ms;
}

export function parseHeartBeat(value: string | undefined): [number, number] {
  if (value === undefined) return [0, 0];
  const match = /^\s*(\d{1,9})\s*,\s*(\d{1,9})\s*$/.exec(value);
  if (!match) throw invalidHeader("heart-beat", `Expected "cx,cy" in milliseconds, got "${echo(value)}".`);
  return [Number(match[1]), Number(match[2])];
}
