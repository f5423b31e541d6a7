import type { Unavailable } from "../../feeds/unavailable";

/**
 * A cold symbol's first price from whichever comes first: the budgeted REST quote or the
 * stream's first tick (a symbol is subscribed upstream as soon as it has a viewer, while its
 * REST quote may still be on its way). One REST request per cold spell, however many wait.
 * Pure: the REST request is injected.
 */
export class FirstPrice<F> {
  private pending: { promise: Promise<F | Unavailable>; resolve: (v: F | Unavailable) => void } | undefined;

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
    rest().then(settle, (err: unknown) => settle({ unavailable: "upstream", reason: String(err) }));
    return promise;
  }

  /** A price arrived (a streamed tick, a published one): whoever waits gets it. */
  arrived(first: F): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve(first);
  }
}
