/**
 * A protocol violation. The session turns it into an ERROR frame whose `message`
 * header is `message` (plus any extra `headers`), then closes with `closeCode`.
 */
export class StompError extends Error {
  constructor(
    message: string,
    readonly details?: string,
    readonly closeCode: number = 1002,
    readonly headers: ReadonlyArray<readonly [string, string]> = [],
  ) {
    super(message);
    this.name = "StompError";
  }
}
