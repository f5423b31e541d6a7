import type { Unavailable } from "../../feeds/unavailable";

/**
 * A cold symbol's first price from whichever comes first: the budgeted REST quote or the
 * stream's first tick (a symbol is subscribed upstream as soon as it has a viewer, while its
 * REST quote may still wait for the budget). When REST has no room for it ("busy") but the
 * stream may still bring it, the waiters wait a little longer for the stream. Pure: the REST
 * request and the clock's timer are injected.
 */
export class FirstPrice<F> {
  private pending: { promise: Promise<F | Unavailable>; resolve: (v: F | Unavailable) => void } | undefined;

  constructor(
    /** How long to wait for a streamed tick after REST said "busy" (0: not streaming, answer at once). */
    private readonly streamGraceMs: number,
    private readonly setTimer: (fn: () => void, ms: number) => void = (fn, ms) => void setTimeout(fn, ms),
  ) {}

  /** The first price: `rest()` is asked once per cold spell; a tick arriving meanwhile answers everyone at once. */
  wait(rest: () => Promise<F | Unavailable>): Promise<F | Unavailable> {
    if (this.pending) return this.pending.promise;
    let resolve!: (v: F | Unavailable) => void;
    const promise = new Promise<F | Unavailable>((r) => (resolve = r));
    const pending = { promise, resolve };
    this.pending = pending;
    const settle = (v: F | Unavailable) => {
      if (this.pending !== pending) return;
      this.pending = undefined;
      resolve(v);
    };
    rest().then(
      (answer) => {
        if (isBusy(answer) && this.streamGraceMs > 0) this.setTimer(() => settle(answer), this.streamGraceMs);
        else settle(answer);
      },
      (err: unknown) => settle({ unavailable: "upstream", reason: String(err) }),
    );
    return promise;
  }

  /** A price arrived (a streamed tick, or any other): whoever waits gets it. */
  arrived(first: F): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve(first);
  }
}

function isBusy(answer: unknown): answer is Unavailable {
  return typeof answer === "object" && answer !== null && (answer as Unavailable).unavailable === "busy";
}
