import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { log } from "../log";
import { tickerStub } from "./stubs";

const SWEEP_BATCH = 50;

/**
 * The registry of symbols that are ticking. Symbol objects report when their alarm
 * loop starts and stops; the cron trigger sweeps the list and restarts any loop whose
 * alarm was lost, so a symbol with subscribers never goes silent for long.
 */
export class FeedScheduler extends DurableObject<Env> {
  async activate(symbol: string): Promise<void> {
    await this.ctx.storage.put(`active:${symbol}`, Date.now());
  }

  async deactivate(symbol: string): Promise<void> {
    await this.ctx.storage.delete(`active:${symbol}`);
  }

  async activeSymbols(): Promise<string[]> {
    const entries = await this.ctx.storage.list({ prefix: "active:" });
    return [...entries.keys()].map((k) => k.slice("active:".length));
  }

  /** Pokes every active symbol; returns how many are still ticking. */
  async sweep(): Promise<number> {
    const symbols = await this.activeSymbols();
    let ticking = 0;
    for (let i = 0; i < symbols.length; i += SWEEP_BATCH) {
      await Promise.all(
        symbols.slice(i, i + SWEEP_BATCH).map(async (symbol) => {
          try {
            if (await tickerStub(this.env, symbol).ensureTicking()) ticking++;
            else await this.deactivate(symbol);
          } catch (err) {
            log("sweep_failed", { symbol, error: String(err) });
          }
        }),
      );
    }
    log("sweep", { active: symbols.length, ticking });
    return ticking;
  }
}
