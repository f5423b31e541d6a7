import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CASE_SYMBOLS } from "../fixtures/sessions";
import { DEFAULT_RUNTIME } from "../support/dev-server";
import { dropped, forCase, type Run, startRun, streamStatus, within } from "./harness";
import { CASES, type CaseId, PROFILES } from "./profiles";
import {
  type DelayedBars,
  delayedBars,
  type Outage,
  outage,
  STORM_MS,
  type Storm,
  startBarsTrading,
  storm,
} from "./scenarios-outage";
import {
  type DayVolume,
  dayVolume,
  dayVolumeAfterOutage,
  type FirstPrice,
  firstPrice,
  type LastEligible,
  lastEligible,
  type Polled,
  polled,
} from "./scenarios-quiet";

/**
 * The conformance suite, one provider profile at a time (as hono's runtime tests run one
 * case list per runtime): one fake provider and one Edge Ticker server for every case, the
 * scenarios run in phases (the quiet ones side by side, then an outage, then a reconnect
 * storm), and each case judges what its scenario saw. CONFORMANCE_REPORT=dir writes the
 * observations as JSON.
 */
interface Seen {
  firstPrice?: FirstPrice;
  dayVolume?: DayVolume;
  lastEligible?: LastEligible;
  refused?: Polled;
  silent?: Polled;
  outage?: Outage;
  after?: DayVolume;
  delayed?: DelayedBars;
  storm?: Storm;
  secondConnections?: Array<{ key: string; connection: number }>;
  maxAuthenticated?: Record<string, number>;
  wallMs?: number;
  /** /healthz streams after first-price, after the quiet cases, and at the end. */
  streams?: unknown[];
  /** Per case's viewers, those whose connection the server closed, with why. */
  viewerFaults?: Record<string, Array<{ viewer: number; code: number; reason: string; errors: string[] }>>;
}

const SYMBOLS = [
  ...CASE_SYMBOLS.firstPrice,
  CASE_SYMBOLS.dayVolume,
  CASE_SYMBOLS.lastEligible,
  CASE_SYMBOLS.refused,
  CASE_SYMBOLS.silent,
  CASE_SYMBOLS.bars,
  ...CASE_SYMBOLS.gaps,
  CASE_SYMBOLS.delayed,
].map((base) => ({ base, listed: true }));

/** Which viewers each case watches through (forCase's names). */
const GROUP: Record<CaseId, string> = {
  "first-price": "first-price",
  "day-volume": "day-volume",
  "day-volume-after-outage": "day-volume",
  "last-eligible": "last-eligible",
  "refused-polled": "refused-polled",
  "silent-polled": "silent-polled",
  "gap-once": "outage",
  "bars-handover": "outage",
  "delayed-bars": "delayed-bars",
  "one-connection": "none",
  "reconnect-storm": "none",
};

export function runConformance(profileId: string): void {
  const profile = PROFILES[profileId];
  if (!profile) throw new Error(`no conformance profile ${profileId}`);
  const applies = (c: CaseId) => profile.applies[c] === true;
  const seen: Seen = {};
  let run: Run | undefined;

  describe(`conformance: ${profile.id}`, () => {
    beforeAll(async () => {
      const started = Date.now();
      run = await startRun(profile, SYMBOLS);
      const outageRun = await forCase(run, "outage");
      const barsTrading = applies("bars-handover") ? await startBarsTrading(outageRun) : undefined;
      // Alone: 50 new symbols at once (Finnhub's whole per-connection allowance).
      if (applies("first-price"))
        seen.firstPrice = await firstPrice(await forCase(run, "first-price"), barsTrading ? 49 : 50);
      const r = run;
      seen.streams = [await streamStatus(r)];
      const volumeRun = await forCase(r, "day-volume");
      const quiet = await Promise.all([
        applies("day-volume") ? dayVolume(volumeRun) : undefined,
        applies("last-eligible") ? lastEligible(await forCase(r, "last-eligible")) : undefined,
        applies("refused-polled")
          ? polled(await forCase(r, "refused-polled"), CASE_SYMBOLS.refused, "refused")
          : undefined,
        applies("silent-polled") ? polled(await forCase(r, "silent-polled"), CASE_SYMBOLS.silent, "silent") : undefined,
        applies("delayed-bars") ? delayedBars(await forCase(r, "delayed-bars")) : undefined,
      ]);
      [seen.dayVolume, seen.lastEligible, seen.refused, seen.silent, seen.delayed] = quiet;
      seen.streams.push(await streamStatus(r));
      if (applies("gap-once") || applies("bars-handover")) seen.outage = await outage(outageRun, barsTrading);
      if (applies("day-volume-after-outage") && seen.dayVolume)
        seen.after = await dayVolumeAfterOutage(volumeRun, seen.dayVolume.from);
      seen.secondConnections = r.fake.stream.truth.secondConnections.map(({ key, connection }) => ({
        key,
        connection,
      }));
      seen.maxAuthenticated = Object.fromEntries(r.fake.stream.truth.maxAuthenticated);
      if (applies("reconnect-storm")) seen.storm = await storm(r);
      seen.streams.push(await streamStatus(r));
      seen.wallMs = Date.now() - started;
      seen.viewerFaults = Object.fromEntries([...r.groups.keys()].map((g) => [g, dropped(r, g)]));
      const dir = process.env.CONFORMANCE_REPORT;
      if (dir) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${profile.id}-${DEFAULT_RUNTIME}.json`), JSON.stringify(seen, null, 1));
        // The server's log lines (one JSON object per state change) beside the observations, for diagnosis.
        writeFileSync(join(dir, `${profile.id}-${DEFAULT_RUNTIME}.log`), r.srv.logs());
      }
    }, 600_000);
    afterAll(async () => run?.stop());

    // A case that does not apply is not a test: its reason stands in the profile's table (profiles.ts).
    const test = (id: CaseId, body: () => void) => {
      if (profile.applies[id] !== true) return;
      it(`${id}: ${CASES[id]}`, () => {
        // A case watches through its viewers: one the server dropped makes its observations meaningless.
        expect(seen.viewerFaults?.[GROUP[id]] ?? [], "viewers the server disconnected").toEqual([]);
        body();
      });
    };

    test("first-price", () => {
      const s = seen.firstPrice!;
      const late = s.lags.filter((l) => l.lagMs === null || l.lagMs > 2_000);
      const worst = Math.max(...s.lags.map((l) => l.lagMs ?? Infinity));
      expect(
        late,
        `${late.length} of ${s.lags.length} late (worst ${worst} ms; ${s.subscribedUpstream}/${s.symbols} subscribed upstream)`,
      ).toEqual([]);
    });

    const judgeDayVolume = (d: DayVolume | undefined) => {
      expect(d, "scenario did not run").toBeDefined();
      const v = d!;
      expect(v.lastPriceShown, "the viewers never showed the last trade").toBe(true);
      expect(v.delivered, "trades delivered over the stream (the symbol was only polled)").toBeGreaterThan(0);
      if (!profile.reportsVolume) {
        // Finnhub reports no volume at all: a day volume, if shown, lies between what was streamed and the day's.
        const plausible = (x: number | undefined) => x === undefined || (x >= v.streamed * 0.99 && x <= v.truth * 1.01);
        expect(
          v.viewers.every(plausible),
          `viewers ${JSON.stringify(v.viewers)}, streamed ${v.streamed}, day ${v.truth}`,
        ).toBe(true);
        expect(plausible(v.api), `/api/quotes ${v.api}, streamed ${v.streamed}, day ${v.truth}`).toBe(true);
        return;
      }
      expect(
        v.viewers.every((x) => within(x, v.truth, 0.01)),
        `viewers ${JSON.stringify(v.viewers)}, day ${v.truth}`,
      ).toBe(true);
      expect(within(v.api, v.truth, 0.01), `/api/quotes ${v.api}, day ${v.truth}`).toBe(true);
    };
    test("day-volume", () => judgeDayVolume(seen.dayVolume));

    test("last-eligible", () => {
      const s = seen.lastEligible!;
      expect(s.regularShown, "the regular print never reached the viewers").toBe(true);
      expect(s.delivered, "ineligible prints delivered over the stream (the symbol was only polled)").toBe(
        s.ineligible.length,
      );
      expect(
        s.shownAfter.filter((p) => s.ineligible.includes(p)),
        `viewers showed ${JSON.stringify(s.shownAfter)}`,
      ).toEqual([]);
      expect(s.api, "/api/quotes price after the ineligible prints").toBe(s.regular);
      expect(s.closingShown, "the regular print after them never reached the viewers").toBe(true);
    });

    const judgePolled = (p: Polled | undefined) => {
      const s = p!;
      expect(
        s.lags.every((l) => l !== null && l <= s.budgetMs),
        `lags ${JSON.stringify(s.lags)} ms, two polling periods ${s.budgetMs} ms`,
      ).toBe(true);
    };
    test("refused-polled", () => judgePolled(seen.refused));
    test("silent-polled", () => judgePolled(seen.silent));

    test("gap-once", () => {
      const o = seen.outage!;
      expect(o.reconnected, "the stream never came back").toBe(true);
      for (const g of o.gaps) {
        expect(
          g.perViewer.map((p) => p.length),
          `${g.symbol}: gap-marked ticks per viewer ${JSON.stringify(g.perViewer)}`,
        ).toEqual(g.perViewer.map(() => 1));
        if (g.caughtUp !== undefined)
          expect(
            g.perViewer.map((p) => p[0]),
            `${g.symbol}: the gap tick's price`,
          ).toEqual(g.perViewer.map(() => g.caughtUp));
      }
    });

    test("bars-handover", () => {
      const o = seen.outage!;
      const total = o.bars.reduce((n, b) => n + (b.v ?? 0), 0);
      const truth = o.bars.reduce((n, b) => n + b.truth, 0);
      const table = JSON.stringify(o.bars.map((b) => [new Date(b.t).toISOString().slice(11, 16), b.v, b.truth]));
      expect(
        o.bars.filter((b) => b.truth > 0 && b.v === undefined),
        `minutes without a bar: ${table}`,
      ).toEqual([]);
      const why = `bars hold ${total} where ${truth} traded: ${table}; the first viewer's ticks: ${JSON.stringify(o.seen)}`;
      if (!profile.reportsVolume) {
        // Finnhub reports no volume at all (its quote has none): what traded while the stream was
        // down cannot be known. The bars hold exactly what the viewers were streamed, never more than traded.
        expect(within(total, o.seen.sizes, 0.01) && total <= truth * 1.01, why).toBe(true);
      } else expect(within(total, truth, 0.01), why).toBe(true);
      // A hand-over may move sizes traded while the stream was down into a neighbouring minute, never more.
      const spikes = o.bars.filter((b) => (b.v ?? 0) > b.truth * 1.01 + o.tradedDuringOutage);
      expect(spikes, `spikes (outage traded ${o.tradedDuringOutage}): ${table}`).toEqual([]);
    });

    test("day-volume-after-outage", () => judgeDayVolume(seen.after));

    test("delayed-bars", () => {
      const d = seen.delayed!;
      expect(d.stampedMinutesAgo).toBeGreaterThanOrEqual(14);
      expect(
        d.bars.filter((b) => !within(b.v, b.truth, 0.01)),
        `bars against the traded sizes: ${JSON.stringify(d.bars)}`,
      ).toEqual([]);
    });

    test("one-connection", () => {
      expect(
        seen.secondConnections,
        `most authenticated at once per key: ${JSON.stringify(seen.maxAuthenticated)}`,
      ).toEqual([]);
    });

    test("reconnect-storm", () => {
      expect(seen.storm!.attempts, `connection attempts in ${STORM_MS / 1000} s`).toBeLessThanOrEqual(6);
    });
  });
}
