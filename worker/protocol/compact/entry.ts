import { CONTROL_KEYS, TICK_FIELDS } from "./fields";

/**
 * Compact entries (pure): one message of one stream as a JSON object. A whole entry carries
 * its position (`q`, `e`) and every field; a delta entry the fields that changed since the
 * previous entry of its stream in the same subscription, and `q` only when its seq is not
 * that entry's plus one. `r` marks a replayed entry, `g` the first after lost ones (their
 * count, or `true` when unknown). Batches carry `s` (the symbol) in every entry.
 */

/** How a message reached one subscription, beyond live: replayed for `x-since`, or after a gap. */
export type Marker = { kind: "replay" } | { kind: "gap"; missed?: number };

const Q = `"${CONTROL_KEYS.seq}":`;
const E = `"${CONTROL_KEYS.epoch}":`;

function markerPair(marker: Marker | undefined): string {
  if (!marker) return "";
  switch (marker.kind) {
    case "replay":
      return `"${CONTROL_KEYS.replay}":1,`;
    case "gap":
      return `"${CONTROL_KEYS.gap}":${marker.missed === undefined ? "true" : marker.missed},`;
  }
}

/** A whole entry: `{"q":42,"e":"3f2a9c1e","s":"AAPL","p":228.61,…}` (`fields` never empty: a message has a symbol). */
export function wholeEntry(seq: number, epoch: string, fields: string, marker?: Marker): string {
  return `{${markerPair(marker)}${Q}${seq},${E}${JSON.stringify(epoch)},${fields}}`;
}

/**
 * A delta entry: `{"p":228.62,"t":1000}`; in a batch `{"s":"AAPL","p":228.62,"t":1000}`.
 * `seq` only when it is not the previous entry's plus one.
 */
export function deltaEntry(fields: string, symbolPair?: string, seq?: number, marker?: Marker): string {
  let head = markerPair(marker);
  if (symbolPair !== undefined) head = `${symbolPair},${head}`;
  if (seq !== undefined) head += `${Q}${seq},`;
  if (fields === "") return `{${head.slice(0, -1)}}`;
  return `{${head}${fields}}`;
}

/** `"s":"AAPL"`: the symbol of a batch's delta entries (symbols need no JSON escaping). */
export function symbolPair(symbol: string): string {
  return `"${TICK_FIELDS.symbol.key}":${JSON.stringify(symbol)}`;
}

/** A batch body: its entries as one JSON array. */
export function batchBody(entries: readonly string[]): string {
  return `[${entries.join(",")}]`;
}
