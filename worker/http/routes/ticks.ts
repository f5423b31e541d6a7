import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { notCarried } from "../../market/symbol-policy";
import { parseQuoteInput, type Quote, QuoteError } from "../../market/tick";
import { appendTo } from "../../multimap";
import { sourceStub } from "../../objects/stubs";
import { symbolGate } from "../../objects/symbol-gate";
import { checkPublishToken } from "../publish-auth";
import { reject } from "../reply";

const MAX_BODY_BYTES = 1_048_576;
const MAX_TICKS = 1_000;

/** `POST /api/ticks`: publish one tick or an array of ticks, with `Authorization: Bearer <PUBLISH_TOKEN>`. */
export const tickRoutes = new Hono<{ Bindings: Env }>().post("/api/ticks", async (c) => {
  const denied = await checkPublishToken(c.env, c.req.raw);
  if (denied) return denied;

  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) return reject("body-too-large", `request body over ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return reject("invalid-json", "body is not valid JSON");
  }
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0 || items.length > MAX_TICKS)
    return reject("invalid-tick-count", `send 1 to ${MAX_TICKS} ticks`);

  // Validate everything before publishing anything: a bad batch publishes nothing.
  const policy = readConfig(c.env).symbols;
  const bySymbol = new Map<string, Quote[]>();
  for (const [i, item] of items.entries()) {
    let quote: Quote;
    try {
      quote = parseQuoteInput(item);
    } catch (err) {
      if (err instanceof QuoteError)
        return reject("invalid-tick", items.length > 1 ? `tick ${i}: ${err.message}` : err.message);
      throw err;
    }
    if (!policy.allows(quote.symbol)) return reject("symbol-not-carried", notCarried(quote.symbol));
    appendTo(bySymbol, quote.symbol, quote);
  }
  const published = await Promise.all(
    [...bySymbol].map(([symbol, quotes]) => sourceStub(c.env, symbol).publishQuotes(quotes)),
  );
  // A publisher makes a symbol real: this isolate need not ask again.
  for (const symbol of bySymbol.keys()) symbolGate(c.env).known(symbol);
  return c.json({ published: items.length, ticks: published.flat() });
});
