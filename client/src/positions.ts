/** A stream position from a MESSAGE's `x-epoch` and `x-seq`. */
export interface Position {
  epoch: string;
  seq: number;
}

/**
 * How a message reached us: live; replayed after a resume (`x-replay`); or the newest after
 * messages that could not be recovered (`x-gap`), with how many when the server knows.
 */
export type Arrival = { kind: "live" } | { kind: "replayed" } | { kind: "gap"; missed: number | undefined };

/** What the client does with a positioned message. */
export type Verdict =
  /** New: deliver it (`arrival` says how it came). */
  | { kind: "deliver"; arrival: Arrival }
  /** Already delivered (an overlap at a resume's seam): drop it, so each position is seen once. */
  | { kind: "duplicate" };

/** The MESSAGE headers resuming reads (STOMP header names). */
export type PositionHeaders = Partial<Record<"x-seq" | "x-epoch" | "x-replay" | "x-gap" | "x-gap-count", string>>;

/** A message's position, when it has one (viewer counts do not). */
export function positionOf(headers: PositionHeaders): Position | undefined {
  const seq = Number(headers["x-seq"]);
  const epoch = headers["x-epoch"];
  return epoch && Number.isSafeInteger(seq) ? { epoch, seq } : undefined;
}

export function arrivalOf(headers: PositionHeaders): Arrival {
  if (headers["x-gap"] === "true") {
    const count = headers["x-gap-count"];
    return { kind: "gap", missed: count === undefined ? undefined : Number(count) };
  }
  return headers["x-replay"] === "true" ? { kind: "replayed" } : { kind: "live" };
}

/**
 * The last position delivered of each stream (pure). A resume asks the server for what
 * follows it (`x-since`); a message at or before it in the same epoch is a duplicate. A
 * new epoch (the server lost the stream's state) starts over: the server marks its first
 * message as a gap (it counts the loss whenever the epoch is the same).
 */
export class Positions {
  readonly #last = new Map<string, Position>();

  /** The `x-since` value that resumes `stream`, if anything of it was delivered. */
  since(stream: string): string | undefined {
    const p = this.#last.get(stream);
    return p && `${p.epoch}:${p.seq}`;
  }

  /**
   * Judges a message of `stream` at `position` (that came as `arrival` says: the server's
   * marks) and, when new, records it as delivered. On a
   * `complete` stream (every position is sent: not throttled) a jump past the next position
   * that the server did not mark is reported as the gap it is, with its count: never a
   * silent one, whatever happened on the way.
   */
  accept(stream: string, position: Position, arrival: Arrival, complete = false): Verdict {
    const last = this.#last.get(stream);
    // The position that should come next, when the last one is of the same epoch.
    const next = last?.epoch === position.epoch ? last.seq + 1 : undefined;
    if (next !== undefined && position.seq < next) return { kind: "duplicate" };
    this.#last.set(stream, position);
    const unmarked = complete && next !== undefined && position.seq > next && arrival.kind !== "gap";
    return { kind: "deliver", arrival: unmarked ? { kind: "gap", missed: position.seq - next } : arrival };
  }

  forget(stream: string): void {
    this.#last.delete(stream);
  }
}
