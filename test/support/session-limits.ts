import type { SessionLimits } from "../../worker/broker/stomp-session";

/** Session limits for unit tests: open mode, no delay, and bounds no test reaches unless it means to. */
export const SESSION_LIMITS: SessionLimits = {
  maxFrameBytes: 4096,
  maxSubscriptions: 10,
  heartbeatMs: 0,
  auth: { mode: "open", publicDelayMs: 0 },
  inbound: { framesPerSecond: 1_000, frameBurst: 1_000 },
  replayBudget: 1_000,
};
