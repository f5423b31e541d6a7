/**
 * Seeded mutation fuzzing of the STOMP codec and session against a hub's broker with a
 * fake upstream: every mutated frame either works or ends the session with exactly one
 * ERROR whose `message` is one printable line, then a close; nothing throws, and the
 * session never writes after its close. FUZZ_CASES=N runs more (FUZZ_SEED picks the seed).
 */
import { describe, expect, it } from "vitest";
import { HubBroker } from "../../worker/broker/hub-broker";
import type { Sources } from "../../worker/broker/hub-ports";
import type { SessionTransport } from "../../worker/broker/session-state";
import { newSessionState } from "../../worker/broker/session-state";
import { StompSession } from "../../worker/broker/stomp-session";
import { buildTickFrame } from "../../worker/broker/stream-frame";
import { FrameDecoder } from "../../worker/protocol/stomp/decoder";
import { header } from "../../worker/protocol/stomp/frame";
import { authenticateSecret, SESSION_LIMITS } from "../support/session-limits";
import { fuzzCases } from "../support/stomp-fuzz";

const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);

const upstream: Sources = {
  attach: async (stream) =>
    buildTickFrame({ symbol: stream.symbol, seq: 10, price: 1, ts: 1, source: "t", change: 0, changePercent: 0 }, "ep"),
  interest: async () => {},
  range: async () => [],
  publish: async () => {},
};

describe(`STOMP mutation fuzzing (${CASES} cases, seed ${SEED})`, () => {
  it("answers every malformed frame with one readable ERROR and a close, and never throws", async () => {
    const broker = new HubBroker(upstream, { later: () => {} }, { debounceMs: 0, maxReplay: 10 });
    const outcomes = { ok: 0, errors: 0 };
    for (const [i, input] of fuzzCases(SEED, CASES).entries()) {
      const written: string[] = [];
      let closes = 0;
      let afterClose = false;
      const write = (t: string) => {
        if (closes > 0) afterClose = true;
        else written.push(t);
      };
      const transport: SessionTransport = {
        send: write,
        queue: (t) => write(typeof t === "string" ? t : t(0)),
        discard: () => {},
        close: () => void closes++,
        save: () => {},
      };
      const session = new StompSession(
        newSessionState(`s${i}`),
        transport,
        broker,
        { ...SESSION_LIMITS, maxSubscriptions: 5 },
        authenticateSecret,
      );
      await session.receive("CONNECT\naccept-version:1.0,1.1,1.2\npasscode:secret\n\n\0");
      await expect(session.receive(input), `case ${i}: ${JSON.stringify(input)}`).resolves.toBeUndefined();
      const frames = new FrameDecoder({
        maxFrameBytes: 1 << 20,
        commands: new Set(["CONNECTED", "MESSAGE", "RECEIPT", "ERROR"]),
      }).push(written.join(""));
      const errors = frames.filter((f) => f.command === "ERROR");
      expect(errors.length, `case ${i}: ${JSON.stringify(input)}`).toBeLessThanOrEqual(1);
      if (errors.length === 1) {
        outcomes.errors++;
        expect(header(errors[0]!, "message"), `case ${i}`).toMatch(/^[\x20-\x7e]{1,120}$/);
        expect(closes, `case ${i}: ERROR without a close`).toBe(1);
      } else {
        outcomes.ok++;
      }
      expect(afterClose, `case ${i}: wrote after closing`).toBe(false);
      broker.drop(session);
    }
    // The corpus must exercise both outcomes, or it tests nothing.
    expect(outcomes.errors).toBeGreaterThan(CASES / 4);
    expect(outcomes.ok).toBeGreaterThan(10);
  });
});
