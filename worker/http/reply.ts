import { normalizeSymbol, SymbolError } from "../market/symbol";

/** A rejected request: the status and a one-line reason, as plain text. */
export function reject(status: number, reason: string, headers: Record<string, string> = {}): Response {
  return new Response(`${reason}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

/** A route's symbol, normalized; or the 400 that explains why it is not one. */
export function symbolOrReject(raw: string): string | Response {
  try {
    return normalizeSymbol(raw);
  } catch (err) {
    if (err instanceof SymbolError) return reject(400, err.message);
    throw err;
  }
}
