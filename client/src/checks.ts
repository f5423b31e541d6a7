import type { CoreApi } from "./api";
import type { ErrorCode } from "./errors";
import type { SymbolCheck } from "./types";

/** Why the host has no stream of a symbol: it does not know it, does not carry it (SYMBOLS), or refused it otherwise. */
export interface Refusal {
  symbol: string;
  code: ErrorCode;
  reason: string;
}

/** Whether a symbol may be subscribed: not yet known, fine, or refused. */
export type Clearance = { kind: "checking" } | { kind: "cleared" } | { kind: "refused"; refusal: Refusal };

/** Symbols per `/api/symbols` request (the API's limit). */
const BATCH = 50;

/**
 * Asks the host (`/api/symbols`) about symbols before they are subscribed: a STOMP
 * subscription to a symbol it does not know would end the whole connection with an ERROR.
 * Symbols asked for in the same turn go in one request. Only a definite "no" keeps a
 * symbol out: no price just now may change, and the server still has its say.
 */
export class SymbolChecks {
  readonly #clearances = new Map<string, Clearance>();
  readonly #queued = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  readonly #api: CoreApi;
  readonly #settled: (symbol: string, clearance: Clearance) => void;
  constructor(api: CoreApi, settled: (symbol: string, clearance: Clearance) => void) {
    this.#api = api;
    this.#settled = settled;
  }

  clearance(symbol: string): Clearance {
    return this.#clearances.get(symbol) ?? { kind: "checking" };
  }

  /** Checks `symbol` unless known already. */
  check(symbol: string): void {
    if (this.#clearances.has(symbol)) return;
    this.#clearances.set(symbol, { kind: "checking" });
    this.#queue(symbol);
  }

  /** Symbols whose check could not be made (offline at first) are checked again: HTTP works now. */
  retry(): void {
    for (const [symbol, c] of this.#clearances) if (c.kind === "checking") this.#queue(symbol);
  }

  /** The server refused a symbol itself (an ERROR naming its subscription). */
  refuse(refusal: Refusal): void {
    this.#settle(refusal.symbol, { kind: "refused", refusal });
  }

  #queue(symbol: string): void {
    this.#queued.add(symbol);
    this.#timer ??= setTimeout(() => void this.#run(), 0);
  }

  async #run(): Promise<void> {
    this.#timer = undefined;
    const symbols = [...this.#queued];
    this.#queued.clear();
    for (let i = 0; i < symbols.length; i += BATCH) {
      const batch = symbols.slice(i, i + BATCH);
      const checks = await this.#api.symbols(batch).then(
        (a) => a.symbols,
        // Unreachable: checked again when the connection opens. Any other answer: the subscriptions have their say.
        (err: { code?: string }) => (err.code === "network" ? undefined : []),
      );
      if (checks)
        for (const symbol of batch) this.#settle(symbol, clearanceOf(checks.find((c) => c.symbol === symbol)));
    }
  }

  #settle(symbol: string, clearance: Clearance): void {
    if (!this.#clearances.has(symbol) || this.#clearances.get(symbol)?.kind === "refused") return;
    this.#clearances.set(symbol, clearance);
    this.#settled(symbol, clearance);
  }
}

function clearanceOf(check: SymbolCheck | undefined): Clearance {
  if (check?.status === "unknown" || check?.status === "not-carried") {
    const code = check.status === "unknown" ? "unknown-symbol" : "symbol-not-carried";
    return { kind: "refused", refusal: { symbol: check.symbol, code, reason: check.reason } };
  }
  return { kind: "cleared" };
}
