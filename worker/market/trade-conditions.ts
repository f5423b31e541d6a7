/**
 * Which trades move which figures: the consolidated tape's processing rules for US equity
 * sale conditions (UTP Trade Data Feed and CTA/CTS "consolidated processing guidelines", as
 * Polygon's conditions glossary tabulates them). Each provider's codes map to these names
 * (`worker/feeds/stream/conditions.ts`); this is the one rule table. Pure.
 */

/**
 * Whether a trade may become the last price: always, never, or only when it is the first
 * last-eligible trade of the day (the tape's footnote for out-of-sequence, prior-reference,
 * seller, bunched-sold and derivatively-priced prints).
 */
export type LastRule = "yes" | "first" | "no";

export interface ConditionRule {
  last: LastRule;
  /** Moves the day's (and the window's) high and low. */
  highLow: boolean;
  /** Counts toward volume. */
  volume: boolean;
}

const ALL: ConditionRule = { last: "yes", highLow: true, volume: true };
/** Counts toward volume and nothing else (odd lots, average-price, extended hours…). */
const VOLUME_ONLY: ConditionRule = { last: "no", highLow: false, volume: true };
/** Moves high/low and volume; the last price only if it is the day's first. */
const NOT_LAST: ConditionRule = { last: "first", highLow: true, volume: true };
/** Changes nothing (official open/close values repeat trades already counted; cancels). */
const NOTHING: ConditionRule = { last: "no", highLow: false, volume: false };

export const CONDITION_RULES = {
  regular: ALL,
  acquisition: ALL,
  automaticExecution: ALL,
  bunched: ALL,
  closingPrints: ALL,
  crossTrade: ALL,
  distribution: ALL,
  intermarketSweep: ALL,
  openingPrints: ALL,
  reopeningPrints: ALL,
  rule155: ALL,
  soldLast: ALL,
  splitTrade: ALL,
  stoppedStock: ALL,
  stoppedSoldLast: ALL,
  yellowFlag: ALL,
  bunchedSold: NOT_LAST,
  derivativelyPriced: NOT_LAST,
  outOfSequence: NOT_LAST,
  priorReferencePrice: NOT_LAST,
  seller: NOT_LAST,
  stoppedOutOfSequence: NOT_LAST,
  averagePrice: VOLUME_ONLY,
  cashSale: VOLUME_ONLY,
  contingent: VOLUME_ONLY,
  extendedHours: VOLUME_ONLY,
  extendedHoursOutOfSequence: VOLUME_ONLY,
  nextDay: VOLUME_ONLY,
  nonEligible: VOLUME_ONLY,
  oddLot: VOLUME_ONLY,
  priceVariation: VOLUME_ONLY,
  qualifiedContingent: VOLUME_ONLY,
  /** "9": a late correction of the closing price: updates last and high/low, not volume. */
  correctedClose: { last: "yes", highLow: true, volume: false },
  officialClose: NOTHING,
  officialOpen: NOTHING,
  cancelled: NOTHING,
  /** Informational flags that restrict nothing (trade-through exempt, automatic execution detail…). */
  informational: ALL,
} as const satisfies Record<string, ConditionRule>;

export type Condition = keyof typeof CONDITION_RULES;

/** A regular trade: what a trade without conditions does. */
export const REGULAR: ConditionRule = ALL;

/** Coinbase replays recent trades on subscribe: they may bring the price current but were counted already. */
export const REPLAYED: ConditionRule = { last: "yes", highLow: false, volume: false };

const LAST_ORDER: Readonly<Record<LastRule, number>> = { no: 0, first: 1, yes: 2 };

/** What a trade with all of `conditions` may update: each condition can only restrict. */
export function ruleOf(conditions: Iterable<Condition>): ConditionRule {
  let last: LastRule = "yes";
  let highLow = true;
  let volume = true;
  for (const c of conditions) {
    const rule = CONDITION_RULES[c];
    if (LAST_ORDER[rule.last] < LAST_ORDER[last]) last = rule.last;
    highLow &&= rule.highLow;
    volume &&= rule.volume;
  }
  return { last, highLow, volume };
}
