import { describe, expect, it } from "vitest";
import { symbolFromDestination } from "../../worker/broker/streams";
import { assetClass, marketState, newYorkOffsetHours, tradingDay } from "../../worker/market/hours";
import { normalizeSymbol } from "../../worker/market/symbol";
import { isOutOfOrder, nextTick, parseQuoteInput, type Tick } from "../../worker/market/tick";

describe("symbols and destinations", () => {
  it("upper-cases and accepts the documented alphabet", () => {
    expect(["brk.b", "^GSPC", "EURUSD=X", "btc-usd", "A", "ABCDEFGHIJKLMNOP"].map(normalizeSymbol)).toEqual([
      "BRK.B",
      "^GSPC",
      "EURUSD=X",
      "BTC-USD",
      "A",
      "ABCDEFGHIJKLMNOP",
    ]);
  });
  it("rejects anything else with a reason", () => {
    for (const bad of ["", "ABCDEFGHIJKLMNOPQ", "A B", "A/B", "ÄPFEL", "A$"]) {
      expect(() => normalizeSymbol(bad)).toThrow(/invalid symbol .*A-Z 0-9/);
    }
  });
  it("never reaches another symbol through Unicode case folding, and echoes input as one line", () => {
    // "ſ".toUpperCase() is "S", "ı" is "I", "ﬀ" is "FF": each would name another symbol.
    for (const bad of ["ſPY", "ıBM", "ﬀ", "K\u212a"]) expect(() => normalizeSymbol(bad)).toThrow(/invalid symbol/);
    const reason = (() => {
      try {
        normalizeSymbol("A\r\nSet-Cookie: x");
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(reason).toBe('invalid symbol "A\\u000d\\u000aSet-Cookie: x": use 1-16 characters of A-Z 0-9 . - ^ =');
  });
  it("parses /topic/ticker.{SYMBOL} only", () => {
    expect(symbolFromDestination("/topic/ticker.aapl")).toBe("AAPL");
    expect(() => symbolFromDestination("/topic/news.AAPL")).toThrow(/unknown destination/);
    expect(() => symbolFromDestination("/topic/ticker.")).toThrow(/invalid symbol/);
  });
});

describe("market hours", () => {
  it("switches New York between EST and EDT on the US dates", () => {
    expect(newYorkOffsetHours(Date.UTC(2026, 2, 8, 6, 59))).toBe(-5);
    expect(newYorkOffsetHours(Date.UTC(2026, 2, 8, 7, 0))).toBe(-4);
    expect(newYorkOffsetHours(Date.UTC(2026, 10, 1, 5, 59))).toBe(-4);
    expect(newYorkOffsetHours(Date.UTC(2026, 10, 1, 6, 0))).toBe(-5);
  });
  it("knows the equity sessions, the index hours, FX weekdays and crypto's always-on market", () => {
    const tue = (h: number, m = 0) => Date.UTC(2026, 10, 24, h + 5, m); // Tuesday, EST
    expect(marketState("AAPL", tue(3, 59))).toBe("CLOSED");
    expect(marketState("AAPL", tue(4))).toBe("PRE");
    expect(marketState("AAPL", tue(9, 30))).toBe("REGULAR");
    expect(marketState("AAPL", tue(16))).toBe("POST");
    expect(marketState("AAPL", tue(20))).toBe("CLOSED");
    expect(marketState("^GSPC", tue(8))).toBe("CLOSED");
    const saturday = Date.UTC(2026, 10, 21, 17);
    expect(marketState("AAPL", saturday)).toBe("CLOSED");
    expect(marketState("EURUSD=X", saturday)).toBe("CLOSED");
    expect(marketState("EURUSD=X", tue(3))).toBe("REGULAR");
    expect(marketState("BTC-USD", saturday)).toBe("REGULAR");
    expect(assetClass("BRK.B")).toBe("equity");
  });
  it("names the trading day in New York time", () => {
    expect(tradingDay(Date.UTC(2026, 10, 25, 3))).toBe("2026-11-24");
  });
});

describe("published tick input", () => {
  it("takes the symbol from the route when the body has none, and checks they agree", () => {
    expect(parseQuoteInput({ price: 1.5 }, "AAPL")).toEqual({ symbol: "AAPL", price: 1.5, source: "publish" });
    expect(() => parseQuoteInput({ symbol: "MSFT", price: 1 }, "AAPL")).toThrow(/does not match/);
  });
  it("rejects missing or bad fields with a reason", () => {
    const cases: Array<[unknown, RegExp]> = [
      [[1], /JSON object/],
      [{ price: 1 }, /symbol is required/],
      [{ symbol: "A", price: "1" }, /price must be a number from 1e-9 to 1000000000/],
      [{ symbol: "A", price: Number.NaN }, /price must be a number from 1e-9 to 1000000000/],
      [{ symbol: "A", price: 0 }, /price must be a number from 1e-9 to 1000000000/],
      [{ symbol: "A", price: 1, volume: -1 }, /volume must be a non-negative number/],
      [{ symbol: "A", price: 1e308 }, /price must be a number from 1e-9 to 1000000000/],
      [{ symbol: "A", price: 1, prevClose: 1e-300 }, /prevClose must be a number from 1e-9/],
      [{ symbol: "A", price: 1, ts: 1_700_000_000 }, /ts must be epoch milliseconds/],
      [{ symbol: "A", price: 1, currency: "usd" }, /currency/],
      [{ symbol: "A", price: 1, marketState: "OPEN" }, /marketState/],
      [{ symbol: "a b", price: 1 }, /invalid symbol/],
    ];
    for (const [input, reason] of cases) expect(() => parseQuoteInput(input)).toThrow(reason);
  });
});

describe("nextTick", () => {
  const day1 = Date.UTC(2026, 10, 24, 15); // Tuesday 10:00 New York
  it("numbers ticks and computes change against the previous close", () => {
    const first = nextTick(undefined, { symbol: "X", price: 100, source: "t", prevClose: 95 }, day1);
    expect(first).toMatchObject({ seq: 1, change: 5, changePercent: 5.2632, open: 100, high: 100, low: 100, ts: day1 });
    const second = nextTick(first, { symbol: "X", price: 90, source: "t" }, day1 + 1000);
    expect(second).toMatchObject({ seq: 2, prevClose: 95, change: -5, open: 100, high: 100, low: 90 });
  });
  it("rolls the session over on a new trading day", () => {
    const last: Tick = nextTick(undefined, { symbol: "X", price: 100, source: "t", prevClose: 90 }, day1);
    const next = nextTick(last, { symbol: "X", price: 110, source: "t" }, day1 + 86_400_000);
    expect(next).toMatchObject({
      seq: 2,
      prevClose: 100,
      open: 110,
      high: 110,
      low: 110,
      change: 10,
      changePercent: 10,
    });
  });
});

describe("isOutOfOrder", () => {
  const latest = nextTick(undefined, { symbol: "AAPL", price: 101, ts: 10_500, source: "finnhub" }, 10_500);
  it("refuses a quote of the same feed observed before the newest tick (a REST poll crossing a streamed trade)", () => {
    expect(isOutOfOrder(latest, { symbol: "AAPL", price: 100, ts: 10_000, source: "finnhub" })).toBe(true);
  });
  it("takes the same moment, a newer one, an undated quote, another source, or a first quote", () => {
    expect(isOutOfOrder(latest, { symbol: "AAPL", price: 100, ts: 10_500, source: "finnhub" })).toBe(false);
    expect(isOutOfOrder(latest, { symbol: "AAPL", price: 100, ts: 11_000, source: "finnhub" })).toBe(false);
    expect(isOutOfOrder(latest, { symbol: "AAPL", price: 100, source: "finnhub" })).toBe(false);
    expect(isOutOfOrder(latest, { symbol: "AAPL", price: 100, ts: 10_000, source: "publish" })).toBe(false);
    expect(isOutOfOrder(undefined, { symbol: "AAPL", price: 100, ts: 10_000, source: "finnhub" })).toBe(false);
  });
});
