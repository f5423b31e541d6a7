import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { authenticateSecret, SESSION_LIMITS } from "../../test/support/session-limits";
import { HubBroker } from "../../worker/broker/hub-broker";
import type { Sources } from "../../worker/broker/hub-ports";
import { newSessionState, type Subscription } from "../../worker/broker/session-state";
import { StompSession } from "../../worker/broker/stomp-session";
import { buildTickFrame, type StreamFrame } from "../../worker/broker/stream-frame";
import { Connection } from "../../worker/connections/connection";
import { WriteBatcher } from "../../worker/connections/write-batcher";
import { SimulatorFeed } from "../../worker/feeds/simulator";
import { nextTick, type Tick } from "../../worker/market/tick";
import { encodeDelta, encodeWhole } from "../../worker/protocol/compact/codec";
import { type Rec, TICKS_KIND } from "../../worker/protocol/compact/fields";
import type { Form } from "./wire-clients";

/**
 * The hub's own JavaScript per delivered tick in each wire form, without the runtime: the
 * real HubBroker, sessions, subscription index and Connections (carriers that join the
 * frames, as a socket's does, and drop them), `clients` watchlists of 20 of `symbols.length`
 * symbols, rounds of simulator ticks delivered and flushed. The whole server's figure adds
 * the runtime's sends, and moves with the machine's load; this one does not.
 */
export interface HubFigures {
  /** CPU per delivered tick in the hub (µs). */
  usPerTick: number;
  /** STOMP bytes per delivered tick. */
  bytesPerTick: number;
}

/** A full garbage collection now (V8's `gc`, exposed at run time). */
const collectGarbage: () => void = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

const upstream: Sources = {
  attach: async () => undefined,
  interest: async () => {},
  range: async () => [],
  publish: async () => {},
};

/** `rounds` feed rounds of every symbol, rendered as their sources would (before any timing). */
export function simulatedRounds(symbols: readonly string[], rounds: number): StreamFrame[][] {
  const feed = new SimulatorFeed("bench", 1_000, true);
  const last = new Map<string, Tick>();
  const start = Date.UTC(2026, 11, 1, 15, 0, 0);
  return Array.from({ length: rounds }, (_, r) =>
    symbols.map((symbol) => {
      const now = start + r * 1_000;
      const previous = last.get(symbol);
      const quote = feed.quote({ symbol, last: previous }, now);
      const tick = { ...nextTick(previous, quote, now), staleAfterMs: 60_000 };
      last.set(symbol, tick);
      return buildTickFrame(tick, "3f2a9c1e", previous);
    }),
  );
}

function subscriptions(form: Form, symbols: readonly string[]): Subscription[] {
  return symbols.map((symbol, i) => ({
    id: form === "batched" ? "w" : String(i),
    stream: "ticker",
    symbol,
    ack: "auto",
    ...(form === "plain" ? {} : { form: form === "batched" ? "batch" : "compact" }),
  }));
}

/** Delivers `rounds` to `clients` watchlists in `form`; CPU and bytes per delivered tick. */
export async function hubCost(
  form: Form,
  rounds: StreamFrame[][],
  clients: number,
  watchlist: (i: number) => readonly string[],
): Promise<HubFigures> {
  const batcher = new WriteBatcher(0);
  const broker = new HubBroker(upstream, { later: () => {} }, { debounceMs: 1e9, maxReplay: 100 });
  let bytes = 0;
  for (let i = 0; i < clients; i++) {
    const carrier = {
      write: (f: readonly string[]) => {
        bytes += f.join("").length;
      },
      close() {},
      save() {},
    };
    const connection = new Connection("stomp-socket", carrier, batcher);
    const state = { ...newSessionState(`s${i}`), version: "1.2" as const, subs: subscriptions(form, watchlist(i)) };
    connection.session = new StompSession(state, connection, broker, SESSION_LIMITS, authenticateSecret);
    broker.restore(connection.session);
  }
  // The first round makes every subscription's whole entry; the rest are what a viewer gets all day.
  await broker.deliver(rounds[0]!);
  batcher.run();
  bytes = 0;
  collectGarbage(); // what setting up left behind is not this form's cost
  const start = process.cpuUsage();
  for (const round of rounds.slice(1)) {
    await broker.deliver(round);
    batcher.run();
  }
  const used = process.cpuUsage(start);
  const ticks = (rounds.length - 1) * clients * watchlist(0).length;
  return { usPerTick: (used.user + used.system) / ticks, bytesPerTick: bytes / ticks };
}

/** What a source spends per tick rendering its frame, and the part of that the compact fields take (µs). */
export function sourceCost(rounds: StreamFrame[][]): { frame: number; compact: number } {
  const bodies = rounds.map((round) =>
    round.map((f) => JSON.parse(f.tail.slice(f.tail.indexOf("\n\n") + 2, -1)) as Tick),
  );
  // Each symbol's ticks in order, each with the one before it.
  const pairs = bodies[0]!.flatMap((_, s) => bodies.map((round, r) => [round[s]!, bodies[r - 1]?.[s]] as const));
  const time = (fn: (t: Tick, previous: Tick | undefined) => void) => {
    const start = process.cpuUsage();
    for (let k = 0; k < 5; k++) for (const [t, previous] of pairs) fn(t, previous);
    const used = process.cpuUsage(start);
    return (used.user + used.system) / (pairs.length * 5);
  };
  time((t, previous) => void buildTickFrame(t, "3f2a9c1e", previous)); // warm up
  const frame = time((t, previous) => void buildTickFrame(t, "3f2a9c1e", previous));
  const compact = time((t, previous) => {
    encodeWhole(TICKS_KIND, t as unknown as Rec);
    if (previous) encodeDelta(TICKS_KIND, previous as unknown as Rec, t as unknown as Rec);
  });
  return { frame, compact };
}
