import {
  CandlestickSeries,
  createChart,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import { type Bar, LiveCandles } from "../lib/bars";
import type { Tick } from "../lib/tick";

/** The chart's ranges: the day in one-minute candles, or five days in five-minute ones. */
export const RANGES = {
  "1D": { interval: "1m", bucketMs: 60_000 },
  "5D": { interval: "5m", bucketMs: 300_000 },
} as const;
export type Range = keyof typeof RANGES;

const UP = "#1a7f37";
const DOWN = "#cf222e";

/** The selected symbol's candlestick chart with volume: bars first, then its last candle moved by live ticks. */
export class CandleChart {
  private readonly chart: IChartApi;
  private readonly candles: ISeriesApi<"Candlestick">;
  private readonly volume: ISeriesApi<"Histogram">;
  private live = new LiveCandles(60_000);

  constructor(private readonly container: HTMLElement) {
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: dark ? "#c9d1d9" : "#24292f", attributionLogo: true },
      grid: { vertLines: { visible: false }, horzLines: { color: dark ? "#30363d" : "#eaeef2" } },
      // The reader's own clock, not UTC.
      localization: {
        timeFormatter: (t: number) =>
          new Date(t * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }),
      },
      timeScale: {
        timeVisible: true,
        secondsVisible: false,
        tickMarkFormatter: (t: number, kind: number) => tickMark(t, kind),
      },
      rightPriceScale: { borderVisible: false, scaleMargins: { top: 0.08, bottom: 0.24 } },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      wickUpColor: UP,
      wickDownColor: DOWN,
      borderVisible: false,
    });
    // Volume under the candles, on its own scale in the bottom fifth.
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceFormat: { type: "volume" },
      priceScaleId: "volume",
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  }

  /** Replaces the candles (oldest first) for `range`; ticks up to `countedSeq` are in them already. */
  reset(bars: Bar[], range: Range, countedSeq?: number): void {
    this.live = new LiveCandles(RANGES[range].bucketMs);
    this.live.reset(bars, countedSeq);
    this.candles.setData(bars.map((b) => ({ time: sec(b.t), open: b.o, high: b.h, low: b.l, close: b.c })));
    this.volume.setData(bars.map((b) => this.volumePoint(b)));
    this.container.dataset.range = range;
    this.mark();
    this.chart.timeScale().fitContent();
  }

  /** A live tick: the last candle moves, or the next one starts. */
  add(tick: Tick): void {
    if (!this.live.add(tick)) return;
    const b = this.live.bars.at(-1)!;
    this.candles.update({ time: sec(b.t), open: b.o, high: b.h, low: b.l, close: b.c });
    this.volume.update(this.volumePoint(b));
    this.mark();
  }

  private volumePoint(b: Bar) {
    return { time: sec(b.t), value: b.v, color: b.c >= b.o ? "rgba(26,127,55,0.45)" : "rgba(207,34,46,0.45)" };
  }

  /** The candle count and the last candle are on the element, for tests and for anyone inspecting the chart. */
  private mark(): void {
    const last = this.live.bars.at(-1);
    this.container.dataset.points = String(this.live.bars.length);
    this.container.dataset.lastTime = last ? String(last.t) : "";
    this.container.dataset.lastClose = last ? String(last.c) : "";
  }
}

/** Axis labels in local time: dates where a day starts (TickMarkType 0-2: year, month, day), times elsewhere. */
function tickMark(t: number, kind: number): string {
  const d = new Date(t * 1000);
  return kind <= 2
    ? d.toLocaleDateString([], { month: "short", day: "numeric" })
    : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function sec(ms: number): UTCTimestamp {
  return Math.floor(ms / 1000) as UTCTimestamp;
}
