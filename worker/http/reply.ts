import type { Unavailable } from "../feeds/unavailable";
import { normalizeSymbol, SymbolError } from "../market/symbol";
import { notCarried, type SymbolPolicy } from "../market/symbol-policy";
import { HTTP_ERRORS, type HttpErrorCode } from "./errors";

/** A rejected request: the code's status, the code as `x-error-code`, and a one-line reason as plain text. */
export function reject(code: HttpErrorCode, reason: string, headers: Record<string, string> = {}): Response {
  // One line, whatever a reason quotes: no control character may split it.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return new Response(`${reason.replace(/[\x00-\x1f\x7f]/g, " ")}\n`, {
    status: HTTP_ERRORS[code],
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      "x-error-code": code,
      ...headers,
    },
  });
}

/** A route's symbol, normalized; or the 400 that explains why it is not one (404 if it is not carried). */
export function symbolOrReject(raw: string, policy?: SymbolPolicy): string | Response {
  let symbol: string;
  try {
    symbol = normalizeSymbol(raw);
  } catch (err) {
    if (err instanceof SymbolError) return reject("invalid-symbol", err.message);
    throw err;
  }
  return policy && !policy.allows(symbol) ? reject("symbol-not-carried", notCarried(symbol)) : symbol;
}

const MAX_SYMBOLS = 50;

/** A `symbols=A,B` query: 1 to 50 distinct normalized symbols, in the order asked; or the 400 (404 for one not carried). */
export function symbolsOrReject(raw: string | undefined, policy?: SymbolPolicy): string[] | Response {
  if (!raw) return reject("symbols-required", "symbols query parameter is required, e.g. ?symbols=AAPL,MSFT");
  let symbols: string[];
  try {
    symbols = [
      ...new Set(
        raw
          .split(",")
          .filter((s) => s.trim() !== "")
          .map(normalizeSymbol),
      ),
    ];
  } catch (err) {
    if (err instanceof SymbolError) return reject("invalid-symbol", err.message);
    throw err;
  }
  if (symbols.length === 0 || symbols.length > MAX_SYMBOLS)
    return reject("too-many-symbols", `ask for 1 to ${MAX_SYMBOLS} symbols`);
  const outside = policy && symbols.find((s) => !policy.allows(s));
  return outside ? reject("symbol-not-carried", notCarried(outside)) : symbols;
}

/** A symbol without a price: 404 if the provider does not know it, 503 if the budget is busy, 502 if the provider failed. */
export function unavailable(result: Unavailable): Response {
  if (result.unavailable === "unknown") return reject("unknown-symbol", result.reason);
  if (result.unavailable === "busy") {
    return reject("feed-busy", `${result.reason}: try again shortly`, {
      "Retry-After": String(Math.max(1, Math.ceil((result.retryAfterMs ?? 1000) / 1000))),
    });
  }
  return reject("feed-failed", result.reason);
}
