/** What a source asks of its feed-scheduler shard. */
export interface SchedulerPort {
  activate(symbol: string): Promise<boolean>;
  deactivate(symbol: string): Promise<void>;
}

/**
 * Whether a symbol is in its scheduler shard's active set: it is while any hub holds its
 * ticks, and leaves when none does. The scheduler may refuse (MAX_ACTIVE_SYMBOLS). Pure:
 * the port does the I/O.
 */
export class Registration {
  private registered = false;

  constructor(
    private readonly symbol: string,
    private readonly scheduler: () => SchedulerPort,
  ) {}

  /** Follows `active`; false when the scheduler has no room for another symbol. */
  async follow(active: boolean): Promise<boolean> {
    if (active === this.registered) return true;
    if (active && !(await this.scheduler().activate(this.symbol))) return false;
    if (!active) await this.scheduler().deactivate(this.symbol);
    this.registered = active;
    return true;
  }

  /** The scheduler dropped the symbol on its own (a round found it without holders). */
  dropped(): void {
    this.registered = false;
  }
}
