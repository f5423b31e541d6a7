import type { Unavailable } from "../feeds/unavailable";
import { StompError } from "../protocol/stomp/errors";
import type { SessionState } from "./session-state";

/**
 * Why a source will not hold a hub's subscription, as data across RPC (never a thrown
 * error, which the runtime would log as a crash): the symbol has no price (unknown, the
 * budget busy, the provider failing), every slot is taken (MAX_ACTIVE_SYMBOLS), or the
 * subscriber's address already brought in its share (MAX_ACTIVE_SYMBOLS_PER_ADDRESS).
 */
export interface Refusal {
  refused: Unavailable["unavailable"] | "full" | "share";
  reason: string;
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && "refused" in value;
}

export function refusalOf(unavailable: Unavailable): Refusal {
  return { refused: unavailable.unavailable, reason: unavailable.reason };
}

/** The ERROR a subscriber gets for a refusal. */
export function refusalError(symbol: string, refusal: Refusal): StompError {
  const details = refusal.reason.slice(0, 300);
  switch (refusal.refused) {
    case "unknown":
    case "busy":
    case "upstream":
      return new StompError("no-price", details, { message: `No price for ${symbol}` });
    case "full":
    case "share":
      return new StompError("too-many-active-symbols", details, { message: `No room for ${symbol}` });
  }
}

/**
 * Whom a subscription that brings a new symbol in is charged to: its client's address, or
 * the connection itself when no address is known; a publisher is not charged.
 */
export function shareKeyOf(state: SessionState): string | undefined {
  if (state.grant?.publisher) return undefined;
  return state.address || `session:${state.id}`;
}
