import { simulatorKnows } from "../feeds/simulator";
import type { Admission } from "../feeds/unavailable";

/**
 * Nothing persists for a symbol until it is real. A symbol is real when the config says
 * so (the simulator's universe with SIM_UNIVERSE=builtin, any symbol with SIM_UNIVERSE=any)
 * or when its scheduler shard knows it (a publisher sent it, the provider quoted it).
 * SYMBOLS only narrows that (a name it lists the feed does not know has no price either).
 * Every path that would make a symbol's object (the HTTP API, a hub's SUBSCRIBE) asks here
 * first: the object's storage, even its file under a local runtime, exists only for real symbols.
 */

export interface Universe {
  feedProvider: string;
  simAnySymbol: boolean;
}

/** Whether the config alone says `symbol` exists (no need to ask its shard). */
export function knownByConfig(symbol: string, u: Universe): boolean {
  return u.feedProvider === "sim" && (u.simAnySymbol || simulatorKnows(symbol));
}

/**
 * A symbol's scheduler shard: whether it knows the symbol, asking the provider if `ask`;
 * `hold`: a viewer is subscribing (a streamed deployment may admit it on trust).
 */
export type AdmissionPort = (symbol: string, ask: boolean, hold: boolean) => Promise<Admission>;

export interface GateOptions {
  /** Most answers remembered (the oldest is forgotten first). */
  maxEntries: number;
  /** How long a "known" answer is trusted (a symbol unused for SYMBOL_RETENTION_MS is forgotten by its shard). */
  knownTtlMs: number;
  /** How long an "unknown" answer is trusted (a publisher may add the symbol). */
  unknownTtlMs: number;
}

export const GATE_OPTIONS: GateOptions = { maxEntries: 10_000, knownTtlMs: 60_000, unknownTtlMs: 30_000 };

/**
 * The question "is this symbol real?" as a caller (the worker, a hub) asks it: the config
 * first, then the symbol's shard, with its answers remembered in memory for a short while
 * and bounded, so a flood of look-ups of the same names costs one question each per
 * while, and a busy or failing provider is asked again next time. Pure: the shard is a port.
 */
export class SymbolGate {
  private readonly answers = new Map<string, { admission: Admission; until: number }>();

  constructor(
    private readonly universe: Universe,
    private readonly shard: AdmissionPort,
    private readonly now: () => number,
    private readonly options: GateOptions = GATE_OPTIONS,
  ) {}

  /**
   * Whether `symbol` is real; `ask` lets its shard ask the provider (otherwise unknown until
   * something else made it real); `hold`: a viewer subscribes to it (see FirstQuotes.admit).
   */
  async admit(symbol: string, ask = true, hold = false): Promise<Admission> {
    if (knownByConfig(symbol, this.universe)) return { known: true };
    const now = this.now();
    const cached = this.answers.get(symbol);
    if (cached && cached.until > now) return cached.admission;
    const admission = await this.shard(symbol, ask, hold);
    const ttl =
      "known" in admission
        ? this.options.knownTtlMs
        : admission.unavailable === "unknown" && ask
          ? this.options.unknownTtlMs
          : 0;
    this.remember(symbol, admission, ttl > 0 ? now + ttl : undefined);
    return admission;
  }

  /** `symbol` was just made real here (a publish): no need to ask. */
  known(symbol: string): void {
    this.remember(symbol, { known: true }, this.now() + this.options.knownTtlMs);
  }

  private remember(symbol: string, admission: Admission, until: number | undefined): void {
    this.answers.delete(symbol);
    if (until === undefined) return;
    if (this.answers.size >= this.options.maxEntries) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(symbol, { admission, until });
  }
}
