import { afterEach, describe, expect, it, vi } from "vitest";
import { nextCarrier } from "../../client/src/carrier";
import { EdgeTickerError } from "../../client/src/errors";
import { LivenessWatch } from "../../client/src/liveness";
import { attempting, type ConnectionState, dropped, FAILED_AFTER, isFailing } from "../../client/src/state";

describe("the client's carrier choice", () => {
  it("falls back to SockJS only when a WebSocket failed while HTTP worked, for one connection", () => {
    expect(nextCarrier("auto", undefined, true)).toBe("websocket");
    // The host is down (a deploy, a restart): WebSocket again.
    expect(nextCarrier("auto", { carrier: "websocket", opened: false, httpWorks: false }, true)).toBe("websocket");
    // Not yet known whether HTTP works: no conclusion.
    expect(nextCarrier("auto", { carrier: "websocket", opened: false }, true)).toBe("websocket");
    // Blocked on the way: SockJS.
    expect(nextCarrier("auto", { carrier: "websocket", opened: false, httpWorks: true }, true)).toBe("sockjs");
    // After a SockJS connection (open or not), the next reconnect tries WebSocket first.
    expect(nextCarrier("auto", { carrier: "sockjs", opened: true }, true)).toBe("websocket");
    expect(nextCarrier("auto", { carrier: "sockjs", opened: false }, true)).toBe("websocket");
    expect(nextCarrier("auto", { carrier: "websocket", opened: true }, true)).toBe("websocket");
  });

  it("keeps a transport picked by hand, and uses SockJS where there is no WebSocket", () => {
    expect(nextCarrier("sockjs", undefined, true)).toBe("sockjs");
    expect(nextCarrier("websocket", { carrier: "websocket", opened: false, httpWorks: true }, true)).toBe("websocket");
    expect(nextCarrier("auto", undefined, false)).toBe("sockjs");
  });
});

describe("the liveness watch", () => {
  afterEach(() => vi.useRealTimers());

  it("reports a heart-beat that nothing answered within the grace period, and nothing else", () => {
    vi.useFakeTimers();
    const silent = vi.fn();
    const watch = new LivenessWatch(2_000, silent);
    watch.beat();
    vi.advanceTimersByTime(500);
    watch.echo();
    vi.advanceTimersByTime(10_000);
    expect(silent).not.toHaveBeenCalled();

    watch.beat();
    vi.advanceTimersByTime(1_999);
    expect(silent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(silent).toHaveBeenCalledTimes(1);

    // Stopped (the connection closed): a pending beat is forgotten.
    watch.beat();
    watch.stop();
    vi.advanceTimersByTime(5_000);
    expect(silent).toHaveBeenCalledTimes(1);
  });

  it("keeps the first unanswered beat's deadline when beats come faster than the grace", () => {
    vi.useFakeTimers();
    const silent = vi.fn();
    const watch = new LivenessWatch(2_000, silent);
    watch.beat();
    vi.advanceTimersByTime(1_000);
    watch.beat();
    vi.advanceTimersByTime(999);
    expect(silent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(silent).toHaveBeenCalledTimes(1);
  });

  it("takes any frame as an answer, but only a heard echo as a round trip", () => {
    vi.useFakeTimers();
    const silent = vi.fn();
    const watch = new LivenessWatch(2_000, silent);
    watch.heard();
    watch.beat();
    vi.advanceTimersByTime(100);
    watch.heard(); // a tick: alive, but no round trip measured
    vi.advanceTimersByTime(5_000);
    expect(silent).not.toHaveBeenCalled();
    expect(watch.roundTripMs).toBeUndefined();
    // Something heard before the beat answers nothing.
    watch.heard();
    watch.beat();
    vi.advanceTimersByTime(2_000);
    expect(silent).toHaveBeenCalledTimes(1);
  });

  it("stretches the grace on a link whose round trips are slow, and only there", () => {
    vi.useFakeTimers();
    const watch = new LivenessWatch(2_000, () => {});
    const roundTrip = (ms: number) => {
      watch.beat();
      vi.advanceTimersByTime(ms);
      watch.echo();
    };
    for (let i = 0; i < 10; i++) roundTrip(5);
    expect(watch.graceMs).toBe(2_000); // a quick link keeps the base
    for (let i = 0; i < 20; i++) roundTrip(1_500);
    expect(watch.roundTripMs).toBeGreaterThan(1_300);
    expect(watch.graceMs).toBeGreaterThan(2_000);
    // A slow link answering within its (longer) grace is not dropped.
    const silent = vi.fn();
    const slow = new LivenessWatch(2_000, silent);
    for (let i = 0; i < 20; i++) {
      slow.beat();
      vi.advanceTimersByTime(1_900 + (i % 3) * 300);
      slow.echo();
    }
    expect(silent).not.toHaveBeenCalled();
    // Never past the ceiling: a link that slow is as good as gone.
    for (let i = 0; i < 30; i++) roundTrip(40_000);
    expect(watch.graceMs).toBe(15_000);
  });
});

describe("the connection states", () => {
  const now = 1_000_000;
  const closed = { kind: "closed", code: 1006 } as const;

  it("counts failures in a row, widening the backoff, and starts over after a connection that was fine", () => {
    let s: ConnectionState = attempting({ kind: "idle" }, "websocket");
    expect(s).toEqual({ kind: "connecting", carrier: "websocket", failures: 0 });
    for (let i = 1; i <= FAILED_AFTER; i++) {
      s = dropped(s, closed, true, now, () => 1);
      expect(s).toMatchObject({ kind: "reconnecting", failures: i, why: closed });
      s = attempting(s, "websocket");
      expect(s).toMatchObject({ kind: "connecting", failures: i });
    }
    const failing = dropped(s, closed, true, now, () => 1);
    expect(isFailing(failing)).toBe(true);
    expect(failing.kind === "reconnecting" && failing.retryAt).toBe(now + 30_000);
    // Open, then dropped (a restart): the first window again, 0.5 to 3 s.
    const open: ConnectionState = { kind: "open", transport: "websocket", resumed: true };
    const back = dropped(open, { kind: "silent" }, false, now, () => 0.5);
    expect(back).toEqual({ kind: "reconnecting", failures: 0, retryAt: now + 1_750, why: { kind: "silent" } });
    expect(isFailing(back)).toBe(false);
  });

  it("counts a connection the server ended with an error as a failure, and leaves closes that were asked for alone", () => {
    const open: ConnectionState = { kind: "open", transport: "websocket", resumed: false };
    const error = new EdgeTickerError("too-many-failures", "Too many failed attempts");
    expect(dropped(open, { kind: "error", error }, true, now, () => 0)).toMatchObject({ failures: 1 });
    const stopped: ConnectionState = { kind: "stopped", why: { kind: "closed" } };
    expect(dropped(stopped, closed, true, now)).toBe(stopped);
    expect(dropped({ kind: "idle" }, closed, true, now)).toEqual({ kind: "idle" });
  });
});
