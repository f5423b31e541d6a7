import { type CounterChild, type MetricsSnapshot, Registry } from "./registry";

/** What an upstream stream object knows at snapshot time. */
export interface StreamHoldings {
  /** Its connection state now, one of a fixed set (`connecting`, `open`, `backoff`, `closed`, ...). */
  state(): string;
  /** Symbols it is subscribed to upstream. */
  symbols(): number;
}

/**
 * The metrics of an object holding one upstream WebSocket to a provider (a stream feed):
 * its state, subscribed symbols, reconnects and what it received. Wiring an object is a few
 * lines: make one with its provider and holdings, call `reconnected()` / `received()` /
 * `ticks()` where those happen, answer `metrics()` with `snapshot()`, and add the object to
 * `metricsTargets` (worker/http/metrics-targets.ts) with kind `stream`.
 */
export class StreamMetrics {
  private readonly registry: Registry;
  private readonly reconnects: CounterChild;
  private readonly messages: CounterChild;
  private readonly tickCount: CounterChild;

  constructor(now: number, provider: string, holdings: StreamHoldings) {
    const r = new Registry(now);
    this.registry = r;
    r.gauge("edge_ticker_upstream_stream_state", "The upstream stream's state (1 for the current one).", () => [
      { labels: { provider, state: holdings.state() }, value: 1 },
    ]);
    r.gauge("edge_ticker_upstream_subscribed_symbols", "Symbols subscribed on the upstream stream.", () => [
      { labels: { provider }, value: holdings.symbols() },
    ]);
    this.reconnects = r
      .counter("edge_ticker_upstream_reconnects_total", "Upstream stream connections opened again after a drop.", [
        "provider",
      ])
      .labels({ provider });
    this.messages = r
      .counter("edge_ticker_upstream_messages_total", "Messages received on the upstream stream.", ["provider"])
      .labels({ provider });
    this.tickCount = r
      .counter("edge_ticker_upstream_ticks_total", "Ticks taken from the upstream stream.", ["provider"])
      .labels({ provider });
  }

  reconnected(): void {
    this.reconnects.value++;
  }

  received(messages = 1): void {
    this.messages.value += messages;
  }

  ticks(n = 1): void {
    this.tickCount.value += n;
  }

  snapshot(): MetricsSnapshot {
    return this.registry.snapshot();
  }
}
