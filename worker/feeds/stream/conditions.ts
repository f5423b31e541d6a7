import { type Condition, type ConditionRule, REGULAR, ruleOf } from "../../market/trade-conditions";

/**
 * Each provider's trade-condition codes in the names of the one rule table
 * (`market/trade-conditions.ts`). A code not listed restricts nothing (informational, or new:
 * dropping every trade that carries an unknown flag would freeze a symbol). Pure.
 */

/** CTA (tapes A and B: NYSE- and NYSE American-listed) sale conditions, as Alpaca passes them through. */
const CTA: Readonly<Record<string, Condition>> = {
  "@": "regular",
  " ": "regular",
  B: "averagePrice",
  C: "cashSale",
  E: "automaticExecution",
  F: "intermarketSweep",
  H: "priceVariation",
  I: "oddLot",
  K: "rule155",
  L: "soldLast",
  M: "officialClose",
  N: "nextDay",
  O: "openingPrints",
  P: "priorReferencePrice",
  Q: "officialOpen",
  R: "seller",
  T: "extendedHours",
  U: "extendedHoursOutOfSequence",
  V: "contingent",
  X: "crossTrade",
  Z: "outOfSequence",
  "4": "derivativelyPriced",
  "5": "reopeningPrints",
  "6": "closingPrints",
  "7": "qualifiedContingent",
  "8": "informational",
  "9": "correctedClose",
};

/** UTP (tape C: Nasdaq-listed) sale conditions; Alpaca's IEX feed uses these letters too. */
const UTP: Readonly<Record<string, Condition>> = {
  "@": "regular",
  A: "acquisition",
  B: "bunched",
  C: "cashSale",
  D: "distribution",
  E: "informational",
  F: "intermarketSweep",
  G: "bunchedSold",
  H: "priceVariation",
  I: "oddLot",
  K: "rule155",
  L: "soldLast",
  M: "officialClose",
  N: "nextDay",
  O: "openingPrints",
  P: "priorReferencePrice",
  Q: "officialOpen",
  R: "seller",
  S: "splitTrade",
  T: "extendedHours",
  U: "extendedHoursOutOfSequence",
  V: "contingent",
  W: "averagePrice",
  X: "crossTrade",
  Y: "yellowFlag",
  Z: "outOfSequence",
  "1": "stoppedStock",
  "2": "stoppedSoldLast",
  "3": "stoppedOutOfSequence",
  "4": "derivativelyPriced",
  "5": "reopeningPrints",
  "6": "closingPrints",
  "7": "qualifiedContingent",
  "8": "informational",
  "9": "correctedClose",
};

/**
 * Polygon's (Massive's) unified condition ids for stock trades, as its conditions API
 * (`/v3/reference/conditions`) lists them (its older glossary numbered some differently:
 * there 32 was "Sold Out" and 33 the out-of-sequence print).
 */
const POLYGON: Readonly<Record<number, Condition>> = {
  0: "regular",
  1: "acquisition",
  2: "averagePrice",
  3: "automaticExecution",
  4: "bunched",
  5: "bunchedSold",
  7: "cashSale",
  8: "closingPrints",
  9: "crossTrade",
  10: "derivativelyPriced",
  11: "distribution",
  12: "extendedHours",
  13: "extendedHoursOutOfSequence",
  14: "intermarketSweep",
  15: "officialClose",
  16: "officialOpen",
  20: "nextDay",
  21: "priceVariation",
  22: "priorReferencePrice",
  23: "rule155",
  25: "openingPrints",
  27: "stoppedStock",
  28: "reopeningPrints",
  29: "seller",
  30: "soldLast",
  31: "stoppedSoldLast",
  32: "outOfSequence",
  33: "stoppedOutOfSequence",
  34: "splitTrade",
  36: "yellowFlag",
  37: "oddLot",
  38: "correctedClose",
  42: "nonEligible",
  43: "nonEligible",
  44: "cancelled",
  52: "contingent",
  53: "qualifiedContingent",
  54: "cancelled",
};

/** Alpaca trade `c` (an array of one-character codes) read by its tape `z` (A, B: CTA; C: UTP). */
export function alpacaRule(codes: unknown, tape: unknown): ConditionRule {
  if (!Array.isArray(codes) || codes.length === 0) return REGULAR;
  const table = tape === "A" || tape === "B" ? CTA : UTP;
  return ruleOf(codes.flatMap((c) => (typeof c === "string" && Object.hasOwn(table, c) ? [table[c]!] : [])));
}

/** Polygon trade `c` (an array of condition ids). */
export function polygonRule(ids: unknown): ConditionRule {
  if (!Array.isArray(ids) || ids.length === 0) return REGULAR;
  return ruleOf(ids.flatMap((id) => (typeof id === "number" && Object.hasOwn(POLYGON, id) ? [POLYGON[id]!] : [])));
}
