/** What a scheduler shard asks of the deployment's upstream stream object, about its own symbols. */
export interface StreamPort {
  follow(symbols: string[]): Promise<unknown>;
  /** This shard's symbols it serves just now; null when it lost its memory (evicted, redeployed). */
  streamed(): Promise<string[] | null>;
}

/**
 * A scheduler shard's side of the upstream stream (FEED_TRANSPORT): tells it the active
 * set, one report at a time in order, and asks which symbols it serves (those are not
 * polled). Without a stream every symbol is polled. The port does the I/O.
 */
export class StreamLink {
  private following: Promise<void> = Promise.resolve();

  constructor(
    /** The stream object (one per deployment); undefined when prices are polled only. */
    private readonly stream: (() => StreamPort) | undefined,
    private readonly activeSymbols: () => string[],
    private readonly onError: (err: unknown) => void,
  ) {}

  get streaming(): boolean {
    return this.stream !== undefined;
  }

  /** Tells the stream the active set (a failed stream keeps its own wait: telling it again does not shorten it). */
  follow(): Promise<void> {
    const stream = this.stream;
    if (!stream) return Promise.resolve();
    this.following = this.following.then(async () => {
      await stream()
        .follow(this.activeSymbols())
        .catch((err) => this.onError(err));
    });
    return this.following;
  }

  /** The symbols the stream serves just now; none when it is down (all are polled). */
  async streamed(): Promise<Set<string>> {
    if (!this.stream) return new Set();
    try {
      const streamed = await this.stream().streamed();
      // A stream object that lost its memory learns the active set again.
      if (streamed === null) void this.follow();
      return new Set(streamed ?? []);
    } catch {
      return new Set();
    }
  }
}
