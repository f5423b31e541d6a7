/**
 * A subscription: call it (or `unsubscribe()`) to stop, or iterate it
 * (`for await (const tick of client.ticks("AAPL"))`; leaving the loop unsubscribes).
 */
export interface Subscription<T> extends AsyncIterable<T> {
  (): void;
  unsubscribe(): void;
  readonly symbol: string;
}

/** The feeding side of a subscription, for the client. */
export interface Feed<T> {
  subscription: Subscription<T>;
  push(value: T): void;
  /** The subscription ended from the server's side (a refused symbol): iterators throw `error`. */
  fail(error: Error): void;
}

/** One iterator's queue: values not yet taken, and a taker waiting for the next one. */
interface Queue<T> {
  values: T[];
  waiting?: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };
}

/**
 * Builds a subscription whose `stop` runs once. Each iterator keeps every value pushed
 * after it was made, in order, until taken (a slow loop falls behind, it loses nothing).
 */
export function feed<T>(symbol: string, stop: () => void): Feed<T> {
  const queues = new Set<Queue<T>>();
  let ended = false;
  let failure: Error | undefined;
  const settle = (q: Queue<T>) => {
    const w = q.waiting;
    if (!w || (q.values.length === 0 && !ended)) return;
    q.waiting = undefined;
    if (q.values.length > 0) w.resolve({ value: q.values.shift()!, done: false });
    else if (failure) w.reject(failure);
    else w.resolve({ value: undefined, done: true });
  };
  const end = () => {
    if (ended) return;
    ended = true;
    stop();
    for (const q of queues) settle(q);
  };
  const subscription = Object.assign(() => end(), {
    unsubscribe: end,
    symbol,
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const q: Queue<T> = { values: [] };
      queues.add(q);
      return {
        next: () =>
          new Promise<IteratorResult<T>>((resolve, reject) => {
            q.waiting = { resolve, reject };
            settle(q);
          }),
        return: () => {
          queues.delete(q);
          end();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  }) as Subscription<T>;
  return {
    subscription,
    push(value) {
      if (ended) return;
      for (const q of queues) {
        q.values.push(value);
        settle(q);
      }
    },
    fail(error) {
      if (ended) return;
      failure = error;
      end();
    },
  };
}
