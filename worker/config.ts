import type { Env } from "./env";

/** Typed, validated view of the string vars in `Env`. A bad value fails loudly, naming the var. */
export interface Config {
  tickIntervalMs: number;
  feedProvider: string;
  simSeed: string;
  maxFrameBytes: number;
  maxSubscriptions: number;
  /** Client→server heart-beat the server asks for (ms); 0 disables. */
  heartbeatMs: number;
  /** How long published ticks keep the feed quiet for their symbol (ms). */
  publishHoldMs: number;
  allowedOrigins: string[];
  requireOrigin: boolean;
}

export function readConfig(env: Env): Config {
  return {
    tickIntervalMs: int(env, "TICK_INTERVAL_MS", 1000, 50, 3_600_000),
    feedProvider: (env.FEED_PROVIDER ?? "sim").trim() || "sim",
    simSeed: env.SIM_SEED ?? "edge-ticker",
    maxFrameBytes: int(env, "MAX_FRAME_BYTES", 65_536, 1024, 1_048_576),
    // Subscriptions live in the socket attachment (16 KiB), which bounds this.
    maxSubscriptions: int(env, "MAX_SUBSCRIPTIONS", 100, 1, 100),
    heartbeatMs: int(env, "HEARTBEAT_MS", 10_000, 0, 3_600_000),
    publishHoldMs: int(env, "PUBLISH_HOLD_MS", 60_000, 0, 86_400_000),
    allowedOrigins: (env.ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    requireOrigin: (env.REQUIRE_ORIGIN ?? "").trim().toLowerCase() === "true",
  };
}

function int(env: Env, name: keyof Env, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`config ${name}="${String(raw)}" must be an integer from ${min} to ${max}`);
  }
  return value;
}
