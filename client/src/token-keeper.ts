import { EdgeTickerError } from "./errors";

/** Where tokens come from: the embedding site's token endpoint, typically. */
export type TokenSource = () => string | Promise<string>;

/** A token is renewed this long before its exp (or at half its life when shorter). */
const RENEW_BEFORE_MS = 30_000;
/** After a failed renewal, try again this soon. */
const RETRY_MS = 5_000;

/**
 * Keeps a subscriber token fresh: hands out the current one (fetching a new one when it is
 * near its exp) and, while connected, fetches the next one before the current expires and
 * passes it to `handOver`. The exp is read from the token's payload; the server checks it.
 */
export class TokenKeeper {
  #token: { value: string; renewAt: number } | undefined;
  #fetching: Promise<string> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  readonly #source: TokenSource;
  readonly #handOver: (token: string) => void;
  constructor(source: TokenSource, handOver: (token: string) => void) {
    this.#source = source;
    this.#handOver = handOver;
  }

  /** A token good for a while yet. */
  current(): Promise<string> {
    if (this.#token && Date.now() < this.#token.renewAt) return Promise.resolve(this.#token.value);
    return this.#fetch();
  }

  /** The connection is up with the current token: renew it in time. */
  connected(): void {
    this.#schedule(this.#token ? this.#token.renewAt - Date.now() : RETRY_MS);
  }

  disconnected(): void {
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#renew(), Math.max(1_000, ms));
  }

  async #renew(): Promise<void> {
    try {
      this.#handOver(await this.#fetch());
      this.#schedule(this.#token!.renewAt - Date.now());
    } catch {
      this.#schedule(RETRY_MS);
    }
  }

  #fetch(): Promise<string> {
    this.#fetching ??= Promise.resolve()
      .then(() => this.#source())
      .then((value) => {
        const exp = expiryOf(value);
        const now = Date.now();
        const renewAt = exp === undefined ? Infinity : exp - Math.min(RENEW_BEFORE_MS, (exp - now) / 2);
        this.#token = { value, renewAt };
        return value;
      })
      .finally(() => (this.#fetching = undefined));
    return this.#fetching;
  }
}

/** A JWT's `exp` in epoch ms, read without verifying (the server verifies). */
export function expiryOf(token: string): number | undefined {
  try {
    const payload = token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    const { exp } = JSON.parse(atob(payload)) as { exp?: unknown };
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A token source from a URL on the embedding site's backend: its answer is the token, as
 * text or as JSON `{ "token": "..." }`. Sent with the site's cookies (its own session).
 */
export function tokenFromUrl(url: string): TokenSource {
  return async () => {
    // The site's cookies go along: the endpoint knows its visitor by its own session.
    const res = await fetch(url, { credentials: "include", cache: "no-store" } as RequestInit);
    const text = (await res.text()).trim();
    const token = !res.ok ? undefined : text.startsWith("{") ? (JSON.parse(text) as { token?: unknown }).token : text;
    if (typeof token !== "string" || !token)
      throw new EdgeTickerError("token-source", `${url} answered ${res.status} without a token`, res.status);
    return token;
  };
}
