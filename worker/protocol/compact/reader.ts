import { decodeFields } from "./codec";
import { CONTROL_KEYS, type MessageKind, type Rec } from "./fields";

/**
 * Reads one subscription's compact MESSAGE bodies back into plain bodies (pure): what a
 * client keeps per subscription, made anew for each SUBSCRIBE (the server's first entry of
 * each stream in a subscription is whole). Used by the client library and the tests.
 */

/** How an entry reached the subscription: live, replayed after `x-since`, or the first after lost ones. */
export type Arrival = { kind: "live" } | { kind: "replayed" } | { kind: "gap"; missed: number | undefined };

export interface DecodedEntry {
  symbol: string;
  /** The plain body, field by field. */
  value: Rec;
  position: { epoch: string; seq: number };
  arrival: Arrival;
}

/** A body that does not follow the compact form (a delta with nothing before it, a malformed entry). */
export class CompactError extends Error {}

/** The one stream of a single-symbol subscription. */
const SINGLE = "";

interface Last {
  epoch: string;
  seq: number;
  value: Rec;
}

export class CompactReader {
  private readonly last = new Map<string, Last>();
  private readonly symbolKey: string;

  /** `symbol`: a single-symbol subscription's own (else read from its whole entries); batches name it in each entry. */
  constructor(
    private readonly kind: MessageKind,
    private readonly symbol?: string,
  ) {
    this.symbolKey = kind.fields.symbol?.key ?? "symbol";
  }

  /** The body of one MESSAGE of a single-symbol subscription: one entry. */
  single(body: string): DecodedEntry {
    const decoded = this.entry(parse(body), SINGLE);
    const symbol = this.symbol ?? decoded.value.symbol;
    return typeof symbol === "string" ? { ...decoded, symbol } : decoded;
  }

  /** The body of one MESSAGE of a batch subscription (`/topic/tickers`): its entries, in order. */
  batch(body: string): DecodedEntry[] {
    const entries = parse(body);
    if (!Array.isArray(entries)) throw new CompactError("a batch body is a JSON array of entries");
    return entries.map((e: unknown) => {
      const symbol = (e as Rec | null)?.[this.symbolKey];
      if (typeof symbol !== "string") throw new CompactError(`a batch entry names its symbol (${this.symbolKey})`);
      return this.entry(e, symbol);
    });
  }

  /** The last decoded body of `symbol`, if any. */
  latest(symbol: string): Rec | undefined {
    return this.last.get(symbol)?.value;
  }

  private entry(raw: unknown, symbol: string): DecodedEntry {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      throw new CompactError("an entry is a JSON object");
    const entry = raw as Rec;
    const epoch = entry[CONTROL_KEYS.epoch];
    const seq = entry[CONTROL_KEYS.seq];
    let last: Last;
    if (epoch !== undefined) {
      if (typeof epoch !== "string" || typeof seq !== "number")
        throw new CompactError("a whole entry carries its position (q, e)");
      last = { epoch, seq, value: decodeFields(this.kind, entry, undefined, seq) };
    } else {
      const base = this.last.get(symbol);
      if (!base)
        throw new CompactError(`a delta entry of ${symbol || "the subscription"} without a whole one before it`);
      if (seq !== undefined && typeof seq !== "number") throw new CompactError("q is a number");
      const at = seq ?? base.seq + 1;
      last = { epoch: base.epoch, seq: at, value: decodeFields(this.kind, entry, base.value, at) };
    }
    this.last.set(symbol, last);
    // A copy: what the caller does with it must not change the next delta's base.
    return {
      symbol,
      value: { ...last.value },
      position: { epoch: last.epoch, seq: last.seq },
      arrival: arrivalOf(entry),
    };
  }
}

function arrivalOf(entry: Rec): Arrival {
  const gap = entry[CONTROL_KEYS.gap];
  if (gap !== undefined) return { kind: "gap", missed: typeof gap === "number" ? gap : undefined };
  return entry[CONTROL_KEYS.replay] === undefined ? { kind: "live" } : { kind: "replayed" };
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new CompactError("a compact body is JSON");
  }
}
