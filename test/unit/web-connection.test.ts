import { afterEach, describe, expect, it, vi } from "vitest";
import { nextCarrier } from "../../web/src/lib/carrier";
import { LivenessWatch } from "../../web/src/lib/liveness";

describe("the web client's carrier choice", () => {
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
    expect(nextCarrier("xhr-polling", undefined, true)).toBe("sockjs");
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
    watch.heard(); // the echo
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

  it("does not count anything heard before the beat as its answer", () => {
    vi.useFakeTimers();
    const silent = vi.fn();
    const watch = new LivenessWatch(2_000, silent);
    watch.heard();
    watch.beat();
    vi.advanceTimersByTime(2_000);
    expect(silent).toHaveBeenCalledTimes(1);
  });
});
