/**
 * How long after a reconnect an owed catch-up waits for its symbol to be served again: a
 * provider that confirms subscriptions does so within seconds; one that does not (its data is
 * the confirmation) has had the subscription for a second by then, quiet symbols included.
 */
const GRACE_MS = { confirmed: 10_000, unconfirmed: 1_000 } as const;

/**
 * After an outage every symbol the stream carried owes a catch-up: one REST quote, whose day
 * figure brings the trades nobody streamed into the day volume. A symbol's is asked once its
 * new subscription is in effect (the provider confirmed it, or its first trade arrived), or
 * after a grace for one never confirmed: a snapshot taken before the provider streams the
 * symbol again would count neither the trades in between nor let the stream bring them. Pure.
 */
export class OwedCatchUps {
  private readonly owed = new Set<string>();
  /** When the owed symbols not served by then are asked anyway; undefined until the stream is live again. */
  private dueAt: number | undefined;

  /** `ask`: asks for these symbols' catch-ups. */
  constructor(private readonly ask: (symbols: string[]) => void) {}

  /** The live stream was lost while carrying `symbols`. */
  lost(symbols: Iterable<string>): void {
    for (const s of symbols) this.owed.add(s);
    this.dueAt = undefined;
  }

  /** The stream is live again: owed symbols fall due as they are served, the rest after a grace (`confirms`: the codec's). */
  live(now: number, confirms: boolean): void {
    if (this.owed.size > 0) this.dueAt = now + GRACE_MS[confirms ? "confirmed" : "unconfirmed"];
  }

  /** `symbols` were just served (confirmed, or traded): those owed a catch-up are asked now. */
  served(symbols: Iterable<string>): void {
    if (this.dueAt === undefined) return;
    const due = [...symbols].filter((s) => this.owed.delete(s));
    if (this.owed.size === 0) this.dueAt = undefined;
    if (due.length > 0) this.ask(due);
  }

  /** Asks for the owed symbols whose grace ran out by `now`. */
  check(now: number): void {
    if (this.dueAt === undefined || now < this.dueAt) return;
    const due = [...this.owed];
    this.owed.clear();
    this.dueAt = undefined;
    if (due.length > 0) this.ask(due);
  }

  /** When `check` has something to ask next (undefined: nothing owed, or not live yet). */
  nextDueAt(): number | undefined {
    return this.dueAt;
  }
}
