import { describe, expect, it } from "vitest";
import { alpacaRule, polygonRule } from "../../worker/feeds/stream/conditions";
import { CONDITION_RULES, type Condition, REGULAR, ruleOf } from "../../worker/market/trade-conditions";

/**
 * The consolidated processing guidelines as the UTP and CTA specifications tabulate them
 * (Polygon's conditions glossary): [condition, updates high/low, updates last, updates volume].
 * "first": only when it is the day's first last-eligible trade.
 */
const TAPE: Array<[Condition, boolean, "yes" | "first" | "no", boolean]> = [
  ["regular", true, "yes", true],
  ["averagePrice", false, "no", true],
  ["bunchedSold", true, "first", true],
  ["cashSale", false, "no", true],
  ["derivativelyPriced", true, "first", true],
  ["extendedHours", false, "no", true],
  ["extendedHoursOutOfSequence", false, "no", true],
  ["intermarketSweep", true, "yes", true],
  ["officialClose", false, "no", false],
  ["officialOpen", false, "no", false],
  ["nextDay", false, "no", true],
  ["priceVariation", false, "no", true],
  ["priorReferencePrice", true, "first", true],
  ["seller", true, "first", true],
  ["soldLast", true, "yes", true],
  ["outOfSequence", true, "first", true],
  ["oddLot", false, "no", true],
  ["correctedClose", true, "yes", false],
  ["contingent", false, "no", true],
  ["qualifiedContingent", false, "no", true],
];

describe("the tape's rule table", () => {
  for (const [condition, highLow, last, volume] of TAPE) {
    it(`${condition}: high/low ${highLow}, last ${last}, volume ${volume}`, () => {
      expect(CONDITION_RULES[condition]).toEqual({ highLow, last, volume });
    });
  }

  it("conditions combine by restricting: a regular odd lot is an odd lot", () => {
    expect(ruleOf(["regular", "oddLot"])).toEqual({ last: "no", highLow: false, volume: true });
    expect(ruleOf(["intermarketSweep", "outOfSequence"])).toEqual({ last: "first", highLow: true, volume: true });
    expect(ruleOf([])).toEqual(REGULAR);
  });
});

describe("providers' codes", () => {
  it("alpaca: letters read by tape; B is an average price on the CTA tapes and a bunched trade on UTP's", () => {
    expect(alpacaRule(["@", "I"], "C")).toEqual({ last: "no", highLow: false, volume: true });
    expect(alpacaRule(["@"], "C")).toEqual(REGULAR);
    expect(alpacaRule(["Z"], "A")).toEqual({ last: "first", highLow: true, volume: true });
    expect(alpacaRule(["W"], "C")).toEqual({ last: "no", highLow: false, volume: true });
    expect(alpacaRule(["B"], "A")).toEqual({ last: "no", highLow: false, volume: true });
    expect(alpacaRule(["B"], "C")).toEqual(REGULAR);
    expect(alpacaRule(["T"], "B")).toEqual({ last: "no", highLow: false, volume: true });
    expect(alpacaRule(["M"], "C")).toEqual({ last: "no", highLow: false, volume: false });
    // Absent, empty, unknown or malformed codes restrict nothing.
    for (const codes of [undefined, [], ["?"], [7], "I"]) expect(alpacaRule(codes, "C")).toEqual(REGULAR);
  });

  it("polygon: numeric ids from its conditions glossary", () => {
    expect(polygonRule([37])).toEqual({ last: "no", highLow: false, volume: true });
    expect(polygonRule([2])).toEqual({ last: "no", highLow: false, volume: true });
    expect(polygonRule([14, 41])).toEqual(REGULAR);
    // 32 is the out-of-sequence print in its conditions API (the older glossary said 33).
    expect(polygonRule([32])).toEqual({ last: "first", highLow: true, volume: true });
    expect(polygonRule([33])).toEqual({ last: "first", highLow: true, volume: true });
    expect(polygonRule([31])).toEqual(REGULAR);
    expect(polygonRule([53, 52, 41])).toEqual({ last: "no", highLow: false, volume: true });
    expect(polygonRule([15])).toEqual({ last: "no", highLow: false, volume: false });
    expect(polygonRule(undefined)).toEqual(REGULAR);
  });
});
