import type { Env } from "../env";
import type { QuoteResult } from "../feeds/provider";
import { log } from "../log";
import type { Ingested } from "./round";
import { sourceStub } from "./stubs";

/**
 * Hands a symbol's result (a feed round's, or a stream window's tick) to its source, which
 * numbers, stores and frames it. A source that fails is logged and counts as still watched:
 * one symbol's trouble never stops a round.
 */
export async function handOver(
  env: Env,
  symbol: string,
  result: QuoteResult | undefined,
  updateIntervalMs?: number,
): Promise<Ingested> {
  try {
    return await sourceStub(env, symbol).ingest(result, updateIntervalMs);
  } catch (err) {
    log("ingest_failed", { symbol, error: String(err) });
    return { active: true };
  }
}
