import type { TokenKeys } from "./subscriber-token";

/** Who may subscribe, and what the public sees. */
export interface AuthOptions {
  /** `token`: every STOMP connection and market-data request needs a valid token. */
  mode: "open" | "token";
  keys: TokenKeys;
  /** Prices reach connections without a real-time entitlement this late (0: live for all). */
  publicDelayMs: number;
}
