/**
 * Why a provider gave no price for a symbol, or why its stream cannot serve some, as data:
 * the kind (what a scheduler, the stream, the metrics and /healthz branch on) and the
 * provider's one-line reason (for people). One closed list for both ways prices come in;
 * nothing parses a reason back.
 */

/** What a REST quote can fail with. */
export const QUOTE_FAULT_KINDS = [
  "auth",
  "rate-limit",
  "upstream",
  "timeout",
  "network",
  "html",
  "malformed",
  "unknown-symbol",
  "unsupported",
  "provider-error",
] as const;

/** What a provider's stream protocol refuses (bad key, too many connections or symbols, one symbol, a message). */
export const PROVIDER_STREAM_FAULT_KINDS = [
  "auth",
  "connection-limit",
  "symbol-limit",
  "refused-symbol",
  "protocol",
] as const;

/** What we observe of a stream ourselves: a close, silence, a connect that failed, subscriptions never confirmed. */
export const LINK_FAULT_KINDS = ["closed", "silent", "connect-failed", "unconfirmed"] as const;

export type QuoteFaultKind = (typeof QUOTE_FAULT_KINDS)[number];
export type ProviderStreamFaultKind = (typeof PROVIDER_STREAM_FAULT_KINDS)[number];
export type StreamFaultKind = ProviderStreamFaultKind | (typeof LINK_FAULT_KINDS)[number];
export type FaultKind = QuoteFaultKind | StreamFaultKind;

/** Every kind once (`auth` is both a quote's and a stream's). */
export const FAULT_KINDS: readonly FaultKind[] = [
  ...new Set<FaultKind>([...QUOTE_FAULT_KINDS, ...PROVIDER_STREAM_FAULT_KINDS, ...LINK_FAULT_KINDS]),
];

export interface Fault<K extends FaultKind = FaultKind> {
  kind: K;
  reason: string;
  /** For rate limits: how long the provider asked us to wait. */
  retryAfterMs?: number;
}

/** Why the upstream stream cannot serve (some of) its symbols: logged once, counted, shown in /healthz. */
export type StreamFault = Fault<StreamFaultKind>;

/** One symbol's fault as /healthz and /status show it. */
export interface FaultEntry {
  symbol: string;
  kind: FaultKind;
  reason: string;
  at: number;
}

/** What a scheduler shard tells about its faults: the newest few of each kind, and how many of each it saw. */
export interface FaultReport {
  /** Newest first, at most a few of each kind. */
  recent: FaultEntry[];
  /** Faults raised since the shard started, by kind (a symbol counts again only when its fault changes). */
  counts: Partial<Record<FaultKind, number>>;
}

export function fault<K extends FaultKind>(kind: K, reason: string, retryAfterMs?: number): Fault<K> {
  return retryAfterMs === undefined ? { kind, reason } : { kind, reason, retryAfterMs };
}

/** `kind: reason`, as logs and messages show it. */
export function describeFault(f: Fault): string {
  return `${f.kind}: ${f.reason}`;
}

/**
 * Whether a fault says the symbol does not exist for this provider (remembered, answered
 * 404) or that the provider failed just now (asking again later may work).
 */
export function isUnknownSymbol(f: Fault): boolean {
  switch (f.kind) {
    case "unknown-symbol":
    case "unsupported":
      return true;
    // The stream refusing a symbol says nothing of whether the provider's REST API quotes it.
    case "refused-symbol":
    case "connection-limit":
    case "symbol-limit":
    case "protocol":
    case "closed":
    case "silent":
    case "connect-failed":
    case "unconfirmed":
    case "auth":
    case "rate-limit":
    case "upstream":
    case "timeout":
    case "network":
    case "html":
    case "malformed":
    case "provider-error":
      return false;
  }
}
