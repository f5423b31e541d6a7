/**
 * Why a symbol has no price to give: the provider does not know it (remembered for a
 * while, so nobody can make us ask again and again), the request budget has no room for
 * another new symbol just now, or the provider failed.
 */
export interface Unavailable {
  unavailable: "unknown" | "busy" | "upstream";
  reason: string;
  /** For "busy": when asking again can work. */
  retryAfterMs?: number;
}

export function isUnavailable(value: unknown): value is Unavailable {
  return typeof value === "object" && value !== null && "unavailable" in value;
}

/** Whether a symbol may have an object: it is known (the feed, the config or a publisher says so), or why not. */
export type Admission = { known: true } | Unavailable;
