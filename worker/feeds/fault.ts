/**
 * Why a provider gave no price for a symbol, as data: the kind (what a scheduler, the
 * metrics and /healthz branch on) and the provider's one-line reason (for people). Kinds
 * are a closed list; nothing parses a reason back.
 */
export const FAULT_KINDS = [
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

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  kind: FaultKind;
  reason: string;
  /** For rate limits: how long the provider asked us to wait. */
  retryAfterMs?: number;
}

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

export function fault(kind: FaultKind, reason: string, retryAfterMs?: number): Fault {
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
