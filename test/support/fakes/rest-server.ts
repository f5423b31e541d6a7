import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { Market } from "./market";

/**
 * The HTTP half of a fake provider on 127.0.0.1: its dialect answers from the market's truth
 * in the provider's documented format; this part records every request, enforces the
 * provider's documented request budget (its own 429), answers slowly or fails symbols on
 * demand.
 */
export interface RestRequest {
  /** Real clock (ms). */
  at: number;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface RestAnswer {
  status: number;
  /** A JSON value (serialized) or text as is. */
  body: unknown;
  type?: string;
  headers?: Record<string, string>;
}

export interface RestContext {
  readonly market: Market;
  readonly credentials: ReadonlyMap<string, string>;
}

export interface RestDialect {
  readonly name: string;
  /** The provider's documented budget (requests a minute per key); undefined: not enforced. */
  readonly requestsPerMinute?: number;
  /** The provider symbols a request asks about (to fail them on demand). */
  symbols(req: RestRequest): string[];
  handle(req: RestRequest, ctx: RestContext): RestAnswer;
  /** The provider's answer once the budget is spent. */
  rateLimited(retryAfterS: number): RestAnswer;
}

export interface RestBehaviour {
  /** Provider symbols answered with HTTP 503. */
  failing: Set<string>;
  /** Every answer waits this long. */
  slowMs: number;
  /** Enforce the dialect's documented budget. */
  enforceBudget: boolean;
  /** A paid plan's budget instead of the documented one (requests a minute). */
  requestsPerMinute?: number;
}

export interface FakeRestServer {
  url: string;
  behaviour: RestBehaviour;
  requests: RestRequest[];
  /** Requests answered 429 for the budget. */
  limited: RestRequest[];
  close(): Promise<void>;
}

export async function startRestServer(
  dialect: RestDialect,
  ctx: RestContext,
  behaviour: Partial<RestBehaviour> = {},
): Promise<FakeRestServer> {
  const b: RestBehaviour = { failing: new Set(), slowMs: 0, enforceBudget: true, ...behaviour };
  const requests: RestRequest[] = [];
  const limited: RestRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const request: RestRequest = { at: Date.now(), path: url.pathname, query: url.searchParams, headers: req.headers };
    requests.push(request);
    let answer: RestAnswer;
    const window = requests.filter((r) => r.at > request.at - 60_000 && !limited.includes(r)).length;
    const budget = b.requestsPerMinute ?? dialect.requestsPerMinute;
    if (b.enforceBudget && budget !== undefined && window > budget) {
      limited.push(request);
      const oldest = requests.find((r) => r.at > request.at - 60_000 && !limited.includes(r));
      answer = dialect.rateLimited(Math.max(1, Math.ceil(((oldest?.at ?? request.at) + 60_000 - request.at) / 1000)));
    } else if (dialect.symbols(request).some((s) => b.failing.has(s))) {
      answer = { status: 503, body: "upstream unavailable", type: "text/plain" };
    } else {
      answer = dialect.handle(request, ctx);
    }
    const send = () => {
      if (res.destroyed) return;
      const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { "content-type": answer.type ?? "application/json", ...answer.headers }).end(text);
    };
    if (b.slowMs > 0) setTimeout(send, b.slowMs);
    else send();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    behaviour: b,
    requests,
    limited,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): RestAnswer => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});
