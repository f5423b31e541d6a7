import { type Fault, type FaultKind, fault } from "./fault";

/**
 * HTTP to a price provider: a timeout per attempt, bounded retries with backoff for
 * transient failures, Retry-After honoured, and every failure classified into a typed
 * fault (providers often answer errors with 200, so callers classify bodies too).
 */
export class FeedFault extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
    /** For rate limits: how long the provider asked us to wait. */
    readonly retryAfterMs?: number,
    /** The parsed JSON error body, when there was one (adapters read provider error codes from it). */
    readonly body?: unknown,
  ) {
    super(message);
  }

  /** The fault as data (RPC-safe), as results carry it. */
  toFault(): Fault {
    return fault(this.kind, this.message, this.retryAfterMs);
  }
}

export interface UpstreamOptions {
  timeoutMs: number;
  retries: number;
  /** Base backoff between retries (doubles each time). */
  backoffMs?: number;
}

const MAX_RETRY_AFTER_MS = 300_000;

/** GETs `url` and parses JSON; throws FeedFault. 4xx other than 408/429 are not retried. */
export async function getJson(
  url: string,
  headers: Record<string, string>,
  options: UpstreamOptions,
): Promise<unknown> {
  let attempt = 0;
  for (;;) {
    try {
      return await attemptJson(url, headers, options.timeoutMs);
    } catch (err) {
      const fault = err instanceof FeedFault ? err : new FeedFault("network", `request failed: ${String(err)}`);
      const transient = fault.kind === "upstream" || fault.kind === "timeout" || fault.kind === "network";
      if (!transient || attempt >= options.retries) throw fault;
      attempt++;
      await new Promise((r) => setTimeout(r, (options.backoffMs ?? 200) * 2 ** (attempt - 1)));
    }
  }
}

async function attemptJson(url: string, headers: Record<string, string>, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: "application/json", ...headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "TimeoutError" || name === "AbortError")
      throw new FeedFault("timeout", `no answer within ${timeoutMs} ms`);
    throw new FeedFault("network", `request failed: ${String(err)}`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new FeedFault(
      (err as { name?: string }).name === "TimeoutError" ? "timeout" : "network",
      "response body was cut off",
    );
  }
  if (res.status === 429 || res.status === 418) {
    throw new FeedFault("rate-limit", `rate limited (HTTP ${res.status})`, retryAfter(res.headers.get("Retry-After")));
  }
  if (res.status === 401 || res.status === 403)
    throw new FeedFault("auth", `key refused (HTTP ${res.status})${brief(text)}`);
  if (res.status >= 500 || res.status === 408) throw new FeedFault("upstream", `provider error (HTTP ${res.status})`);
  if (/^\s*</.test(text) || (res.headers.get("content-type") ?? "").includes("text/html")) {
    throw new FeedFault("html", `HTML instead of JSON (HTTP ${res.status}): a challenge or error page`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new FeedFault("malformed", `malformed JSON (HTTP ${res.status}, ${text.length} bytes)`);
  }
  if (res.status === 404) throw new FeedFault("unknown-symbol", `not found (HTTP 404)${brief(text)}`);
  // Throttling announced in a 200 body (Alpha Vantage style), with no data beside it.
  if (body && typeof body === "object" && !Array.isArray(body) && Object.keys(body).length === 1) {
    const note = (body as Record<string, unknown>).Note ?? (body as Record<string, unknown>).Information;
    if (typeof note === "string") throw new FeedFault("rate-limit", `throttled: ${note.slice(0, 120)}`);
  }
  if (res.status >= 400) throw new FeedFault("provider-error", `HTTP ${res.status}${brief(text)}`, undefined, body);
  return body;
}

function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}

function brief(text: string): string {
  const line = text.replace(/\s+/g, " ").trim().slice(0, 120);
  return line ? `: ${line}` : "";
}
