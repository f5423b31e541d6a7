import type { Refusal } from "../../broker/refusal";
import { STREAMS, type StreamKind } from "../../broker/streams";
import type { Activation } from "../scheduler/active-set";
import type { SourceStreams } from "./streams";

/** What a source asks of its feed-scheduler shard. */
export interface SchedulerPort {
  activate(symbol: string, by?: string): Promise<Activation>;
  deactivate(symbol: string): Promise<void>;
  /** A publisher made the symbol real: the shard says so to every gate from now on. */
  remember(symbol: string): Promise<void>;
  /** Unknown again (its state is being deleted). */
  forget(symbol: string): Promise<void>;
}

/**
 * Whether a symbol is in its scheduler shard's active set: it is while any hub holds its
 * ticks, and leaves when none does. The scheduler may refuse (MAX_ACTIVE_SYMBOLS, or the
 * share of the address that would bring it in). Pure: the port does the I/O.
 */
export class Registration {
  private registered = false;
  /** Whether this instance told the scheduler a publisher made the symbol real. */
  private remembered = false;

  constructor(
    private readonly symbol: string,
    private readonly scheduler: () => SchedulerPort,
  ) {}

  /** Follows `active` (`by`: whom activating it is charged to); the scheduler's refusal, if it has no room. */
  async follow(active: boolean, by?: string): Promise<Activation> {
    if (active === this.registered) return "ok";
    if (active) {
      const outcome = await this.scheduler().activate(this.symbol, by);
      if (outcome !== "ok") return outcome;
    } else {
      await this.scheduler().deactivate(this.symbol);
    }
    this.registered = active;
    return "ok";
  }

  /**
   * `hub` holds `count` of a stream; one that needs prices registers the symbol (`by`: whom it
   * is charged to). The scheduler's refusal undoes the hold and is returned.
   */
  async hold(
    streams: Pick<SourceStreams, "hold" | "active">,
    kind: StreamKind,
    hub: string,
    count: number,
    by?: string,
  ): Promise<Exclude<Activation, "ok"> | undefined> {
    streams.hold(kind, hub, count);
    const activation = STREAMS[kind].activates ? await this.follow(streams.active(), by) : "ok";
    if (activation === "ok") return undefined;
    streams.hold(kind, hub, 0);
    return activation;
  }

  /** The scheduler dropped the symbol on its own (a round found it without holders). */
  dropped(): void {
    this.registered = false;
  }

  /** A publisher made the symbol real: told once per instance. */
  async published(): Promise<void> {
    if (this.remembered) return;
    await this.scheduler().remember(this.symbol);
    this.remembered = true;
  }

  /** The symbol's state is being deleted: unknown again first (gates ask the shard, which no longer says yes). */
  async retired(): Promise<void> {
    this.remembered = false;
    await this.scheduler().forget(this.symbol);
  }
}

/** The refusal a subscriber gets when the scheduler had no room. */
export function noRoom(
  outcome: Exclude<Activation, "ok">,
  limits: { maxActiveSymbols: number; maxActiveSymbolsPerAddress: number },
): Refusal {
  switch (outcome) {
    case "full":
      return {
        refused: "full",
        reason: `too many symbols are being watched right now (MAX_ACTIVE_SYMBOLS=${limits.maxActiveSymbols})`,
      };
    case "share":
      return {
        refused: "share",
        reason: `your address already brought in its share of symbols nobody else watches (MAX_ACTIVE_SYMBOLS_PER_ADDRESS=${limits.maxActiveSymbolsPerAddress}): drop some first`,
      };
  }
}
