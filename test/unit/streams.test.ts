import { describe, expect, it } from "vitest";
import { parseSince } from "../../worker/broker/frame-headers";
import {
  destinationForm,
  destinationOf,
  entitledKind,
  STREAM_KINDS,
  STREAMS,
  streamFromDestination,
  streamKey,
  streamOfKey,
} from "../../worker/broker/streams";
import { StompError } from "../../worker/protocol/stomp/errors";

describe("the table of stream kinds", () => {
  for (const kind of STREAM_KINDS) {
    const spec = STREAMS[kind];
    describe(kind, () => {
      it("keys round-trip, and its messages carry the destination subscribers name", () => {
        const stream = { kind, symbol: "BRK.B" };
        expect(streamOfKey(streamKey(stream))).toEqual(stream);
        const destination = destinationOf(stream);
        const named = spec.named ? kind : STREAM_KINDS.find((k) => STREAMS[k].delayedAs === kind);
        expect(named, "a delayed kind is what some named kind turns into").toBeDefined();
        expect(streamFromDestination(destination)).toEqual({ kind: named, symbol: "BRK.B" });
        expect(destinationForm(kind).replace("{SYMBOL}", "BRK.B")).toBe(destination);
      });

      it("maps to a delayed kind that exists, is delayed, and shares its destination", () => {
        const delayed = spec.delayedAs;
        if (delayed === undefined) {
          expect(entitledKind(kind, false)).toBe(kind);
          expect(spec.licensed && spec.named).toBe(false);
          return;
        }
        expect(STREAMS[delayed].delayed).toBe(true);
        expect(STREAMS[delayed].named).toBe(false);
        expect(STREAMS[delayed].destination).toBe(spec.destination);
        expect(entitledKind(kind, false)).toBe(delayed);
        expect(entitledKind(kind, true)).toBe(kind);
      });

      it(spec.positioned ? "takes x-since" : "refuses x-since", () => {
        const read = () => parseSince("ab12cd34:7", { kind, symbol: "AAPL" });
        if (spec.positioned) expect(read()).toEqual({ epoch: "ab12cd34", seq: 7 });
        else expect(read).toThrow(StompError);
      });

      it("keeps its holders in a table of its own", () => {
        const tables = STREAM_KINDS.map((k) => STREAMS[k].holdersTable);
        expect(tables.filter((t) => t === spec.holdersTable)).toHaveLength(1);
      });
    });
  }

  it("names every destination form in its refusal of an unknown one", () => {
    expect(() => streamFromDestination("/topic/news.AAPL")).toThrow(
      /expected \/topic\/ticker\.\{SYMBOL\}, \/topic\/viewers\.\{SYMBOL\} or \/topic\/bars\.\{SYMBOL\}\.1m/,
    );
    expect(() => streamFromDestination("/topic/bars.AAPL.5m")).toThrow(/coarser intervals: GET \/api\/bars/);
    expect(() => streamFromDestination("/topic/bars.1m")).toThrow(/bars stream as/);
  });
});
