import { AreaSeries, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import type { Tick } from "../lib/tick";

/** The selected symbol's price chart: history first, then extended by live ticks. */
export class PriceChart {
  private readonly chart: IChartApi;
  private readonly series: ISeriesApi<"Area">;
  private lastTime = 0;
  private points = 0;

  constructor(private readonly container: HTMLElement) {
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: dark ? "#c9d1d9" : "#24292f", attributionLogo: true },
      grid: { vertLines: { visible: false }, horzLines: { color: dark ? "#30363d" : "#eaeef2" } },
      timeScale: { timeVisible: true, secondsVisible: true },
      rightPriceScale: { borderVisible: false },
    });
    this.series = this.chart.addSeries(AreaSeries, {
      lineColor: "#2f81f7",
      topColor: "rgba(47,129,247,0.35)",
      bottomColor: "rgba(47,129,247,0.02)",
      lineWidth: 2,
    });
  }

  /** Replaces the data with `ticks` (oldest first). */
  reset(ticks: Tick[]): void {
    const points = new Map<number, number>();
    for (const t of ticks) points.set(Math.floor(t.ts / 1000), t.price);
    const data = [...points].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time: time as UTCTimestamp, value }));
    this.series.setData(data);
    this.setPoints(data.length);
    this.lastTime = data.at(-1)?.time ?? 0;
    this.chart.timeScale().fitContent();
  }

  add(tick: Tick): void {
    const time = Math.floor(tick.ts / 1000);
    if (time < this.lastTime) return; // out of order (a snapshot older than history): skip
    if (time > this.lastTime) this.setPoints(this.points + 1);
    this.lastTime = time;
    this.series.update({ time: time as UTCTimestamp, value: tick.price });
  }

  /** The point count is on the element, for tests and for anyone inspecting the chart. */
  private setPoints(n: number): void {
    this.points = n;
    this.container.dataset.points = String(n);
  }
}
