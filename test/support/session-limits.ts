import { PUBLISHER_GRANT } from "../../worker/auth/grant";
import { TokenError } from "../../worker/auth/subscriber-token";
import type { Authenticate, SessionLimits } from "../../worker/broker/session-state";

/** Session limits for unit tests: open mode, no delay, and bounds no test reaches unless it means to. */
export const SESSION_LIMITS: SessionLimits = {
  maxFrameBytes: 4096,
  maxSubscriptions: 10,
  heartbeatMs: 0,
  auth: { mode: "open", publicDelayMs: 0 },
  inbound: { framesPerSecond: 1_000, frameBurst: 1_000 },
  replayBudget: 1_000,
};

/** Credentials for unit tests: "secret" publishes, anything else is refused. */
export const authenticateSecret: Authenticate = async (credential) => {
  if (credential !== "secret") throw new TokenError("Bad credentials");
  return PUBLISHER_GRANT;
};
