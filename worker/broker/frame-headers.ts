import { bearerCredential } from "../auth/credentials";
import { SymbolError } from "../market/symbol";
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

/** `x-since:<epoch>:<seq>`: where a resuming client left a ticker or bar stream. */
export function parseSince(value: string | undefined, stream: Stream): StreamPosition | undefined {
  if (value === undefined) return undefined;
  const match = /^([A-Za-z0-9-]{1,36}):(\d{1,15})$/.exec(value.trim());
  if (!match)
    throw invalidHeader(
      "x-since",
      `Expected "<epoch>:<seq>" from a MESSAGE's x-epoch and x-seq, got "${echo(value, 60)}".`,
    );
  if (!STREAMS[stream.kind].positioned)
    throw invalidHeader("x-since", `x-since applies to ${POSITIONED} subscriptions.`);
  return { epoch: match[1]!, seq: Number(match[2]) };
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
