import { grantsSymbol, seesRealtime } from "../auth/grant";
import { notCarried } from "../market/symbol-policy";
import { parseQuoteInput, type Quote, QuoteError } from "../market/tick";
import { echo } from "../protocol/echo";
import { encodeFrame, type HeaderList } from "../protocol/stomp/encoder";
import { StompError } from "../protocol/stomp/errors";
import { type Frame, header, type StompVersion, SUPPORTED_VERSIONS } from "../protocol/stomp/frame";
import {
  missingHeader,
  parseBatchSince,
  parseDestination,
  parseFormat,
  parseHeartBeat,
  parseSince,
  parseSymbols,
  parseThrottle,
  required,
} from "./frame-headers";
import type { AckMode, SessionLimits, SessionState, StreamPosition, Subscription } from "./session-state";
import { BATCHES, entitledKind, type StreamKind, streamFromDestination } from "./streams";

/**
 * The session's whole-frame work, free of its state machine: negotiating a CONNECT, reading
 * a SUBSCRIBE or a SEND into what the broker needs (or the ERROR that says what was wrong),
 * and rendering ERROR frames. Pure.
 */

export const SERVER_NAME = "edge-ticker/0.1";
const MAX_SUBSCRIPTION_ID = 100;
const ACK_MODES: ReadonlySet<string> = new Set(["auto", "client", "client-individual"]);

/** What a CONNECT settles: the version, heart-beat periods `[client→server, server→client]`, and the CONNECTED headers. */
export interface Negotiated {
  version: StompVersion;
  heartbeat: [number, number];
  connected: HeaderList;
}

/** The version both sides speak and the heart-beats (the server asks for `heartbeatMs`; 0 disables). */
export function negotiate(frame: Frame, heartbeatMs: number, sessionId: string): Negotiated {
  const offered = (header(frame, "accept-version") ?? "1.0").split(",").map((v) => v.trim());
  const version = [...SUPPORTED_VERSIONS].reverse().find((v) => offered.includes(v));
  if (!version) {
    throw new StompError("unsupported-version", `Supported versions are ${SUPPORTED_VERSIONS.join(",")}.`, {
      headers: [["version", SUPPORTED_VERSIONS.join(",")]],
    });
  }
  const [cx, cy] = version === "1.0" ? [0, 0] : parseHeartBeat(header(frame, "heart-beat"));
  const sy = heartbeatMs;
  const incoming = cx === 0 || sy === 0 ? 0 : Math.max(cx, sy);
  // The server's heart-beats are the auto-response echoes of the client's, so it can
  // promise them exactly as often as the client sends; without client beats it sends none.
  const sx = incoming;
  const outgoing = sx === 0 || cy === 0 ? 0 : Math.max(sx, cy);
  const connected: HeaderList = [
    ["version", version],
    ["heart-beat", `${sx},${sy}`],
    ["server", SERVER_NAME],
    ["session", sessionId],
  ];
  return { version, heartbeat: [incoming, outgoing], connected };
}

/** Refuses a symbol outside SYMBOLS. */
export function checkCarried(limits: SessionLimits, symbol: string): void {
  if (limits.symbols && !limits.symbols.allows(symbol)) {
    throw new StompError("symbol-not-carried", `${notCarried(symbol)}.`);
  }
}

/** One subscription a SUBSCRIBE makes (a batch makes one per symbol), and where a resuming client left it. */
export interface Subscribed {
  sub: Subscription;
  since?: StreamPosition;
}

/**
 * A SUBSCRIBE as the subscriptions the session holds (the streams its grant entitles it to:
 * one, or a batch's one per symbol) and where a resuming client left off; or the ERROR that
 * says why not.
 */
export function readSubscription(frame: Frame, state: SessionState, limits: SessionLimits): Subscribed[] {
  const destination = required(frame, "destination");
  const batch = Object.hasOwn(BATCHES, destination) ? BATCHES[destination] : undefined;
  if (batch !== undefined) return readBatch(frame, state, limits, destination, batch);
  const stream = parseDestination(streamFromDestination, destination);
  checkEntitled(limits, state, stream.symbol);
  const { id, ack, throttleMs } = readCommon(frame, state, limits, destination, 1);
  const since = parseSince(header(frame, "x-since"), stream);
  const form = parseFormat(header(frame, "x-format"), false);
  // Without a real-time entitlement the ticker and bar streams are the delayed ones, under the same destination.
  const kind = entitledKind(stream.kind, seesRealtime(state.grant, limits.auth.publicDelayMs));
  const sub: Subscription = { id, stream: kind, symbol: stream.symbol, ack };
  if (throttleMs !== undefined) sub.throttleMs = throttleMs;
  if (form) sub.form = form;
  return [since ? { sub, since } : { sub }];
}

/** A batch (`/topic/tickers`): one subscription per symbol of `x-symbols`, all under the frame's id. */
function readBatch(
  frame: Frame,
  state: SessionState,
  limits: SessionLimits,
  destination: string,
  named: StreamKind,
): Subscribed[] {
  const symbols = parseSymbols(header(frame, "x-symbols"), limits.maxSubscriptions);
  for (const symbol of symbols) checkEntitled(limits, state, symbol);
  const { id, ack, throttleMs } = readCommon(frame, state, limits, destination, symbols.length);
  if (ack !== "auto") throw new StompError("invalid-ack-mode", `A batch (${destination}) is ack:auto.`);
  parseFormat(header(frame, "x-format"), true);
  const since = parseBatchSince(header(frame, "x-since"), symbols);
  const kind = entitledKind(named, seesRealtime(state.grant, limits.auth.publicDelayMs));
  return symbols.map((symbol) => {
    const sub: Subscription = { id, stream: kind, symbol, ack, form: "batch" };
    if (throttleMs !== undefined) sub.throttleMs = throttleMs;
    const at = since.get(symbol);
    return at ? { sub, since: at } : { sub };
  });
}

/** A symbol outside SYMBOLS or the token's `sym`, refused. */
function checkEntitled(limits: SessionLimits, state: SessionState, symbol: string): void {
  checkCarried(limits, symbol);
  if (!grantsSymbol(state.grant, symbol)) throw new StompError("not-entitled", `Your token does not cover ${symbol}.`);
}

/** What every SUBSCRIBE carries: its id (new on this connection), its ack mode and throttle; and room for `count` more. */
function readCommon(
  frame: Frame,
  state: SessionState,
  limits: SessionLimits,
  destination: string,
  count: number,
): { id: string; ack: AckMode; throttleMs: number | undefined } {
  const id = header(frame, "id") ?? ((state.version ?? "1.2") === "1.0" ? destination : undefined);
  if (id === undefined) throw missingHeader("SUBSCRIBE", "id", " (STOMP 1.1+)");
  if (id.length === 0 || id.length > MAX_SUBSCRIPTION_ID) {
    throw new StompError("invalid-subscription-id", `Subscription ids are 1-${MAX_SUBSCRIPTION_ID} characters.`);
  }
  if (state.subs.some((s) => s.id === id)) {
    throw new StompError(
      "duplicate-subscription-id",
      `Subscription id "${echo(id)}" is already in use on this connection.`,
    );
  }
  if (state.subs.length + count > limits.maxSubscriptions) {
    const max = limits.maxSubscriptions;
    throw new StompError("too-many-subscriptions", `A connection may hold at most ${max} subscriptions.`);
  }
  const ack = header(frame, "ack") ?? "auto";
  if (!ACK_MODES.has(ack)) throw new StompError("invalid-ack-mode", `ack must be auto, client or client-individual.`);
  return { id, ack: ack as AckMode, throttleMs: parseThrottle(header(frame, "x-throttle-ms")) };
}

/** A SEND body as the tick it publishes for `symbol`. */
export function readPublished(frame: Frame, symbol: string): Quote {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(frame.body));
  } catch {
    throw new StompError("invalid-json", 'SEND bodies are JSON ticks: {"price": 123.45, ...}.');
  }
  try {
    return parseQuoteInput(body, symbol);
  } catch (err) {
    if (err instanceof QuoteError) throw new StompError("invalid-tick", err.message);
    throw err;
  }
}

/** The ERROR frame for `error` in `version` (its message header on one line before CONNECTED), with the receipt if asked. */
export function errorFrame(error: StompError, receipt: string | undefined, version: StompVersion): string {
  // Before CONNECTED the client knows no version, so nothing is escaped (as in CONNECTED
  // itself): a colon stays a colon, and a line break (never meant) becomes a space.
  const message = version === "1.0" ? error.message.replace(/[\r\n]/g, " ") : error.message;
  const headers: Array<readonly [string, string]> = [
    ["message", message],
    ["x-error-code", error.code],
    ...error.headers,
  ];
  if (receipt !== undefined) headers.push(["receipt-id", receipt]);
  headers.push(["content-type", "text/plain"]);
  return encodeFrame("ERROR", headers, error.details ?? error.message, version);
}
