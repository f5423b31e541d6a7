import { parseSymbolPolicy, type SymbolPolicy } from "../market/symbol-policy";
import { entryOf } from "../multimap";

/**
 * What a connection's credentials allow, from a verified token's claims (or the shared
 * publish token). Small and structured-clonable: it lives in the session's hibernation
 * attachment, so it survives eviction.
 */
export interface Grant {
  /** `sub`: who, for logs. */
  subject?: string;
  /** `exp` in epoch ms: the connection ends then unless a fresh token arrives. Absent: never. */
  expiresAt?: number;
  /** `rt`: may see real-time prices; others see them PUBLIC_DELAY_MS late. */
  realtime: boolean;
  /** `sym`: symbols and `*` patterns the holder may subscribe to; absent = all. */
  symbols?: string[];
  /** `pub`: may publish ticks. */
  publisher: boolean;
}

/** The shared PUBLISH_TOKEN: a server, entitled to everything, for as long as it stays connected. */
export const PUBLISHER_GRANT: Grant = { realtime: true, publisher: true };

/** Compiled `sym` lists, per grant object (a session's grant is checked on every SUBSCRIBE). */
const policies = new WeakMap<Grant, SymbolPolicy>();

/** Whether `grant` (none: the public) may read `symbol`'s streams. */
export function grantsSymbol(grant: Grant | undefined, symbol: string): boolean {
  const symbols = grant?.symbols;
  if (!grant || !symbols) return true;
  // An empty list grants nothing (an empty SYMBOLS var would mean "any").
  if (symbols.length === 0) return false;
  return entryOf(policies, grant, () => parseSymbolPolicy(symbols.join(","))).allows(symbol);
}

/** Whether `grant` sees live prices when the public sees them delayed by `publicDelayMs`. */
export function seesRealtime(grant: Grant | undefined, publicDelayMs: number): boolean {
  return publicDelayMs === 0 || grant?.realtime === true;
}
