import type { TickerClient } from "../../../client/src/client";
import { sinceOpen } from "../lib/bars";
import { direction, formatPercent, formatPrice } from "../lib/format";
import { delayLabel, type Tick } from "../lib/tick";
import { CandleChart, RANGES, type Range } from "./chart";
import { $ } from "./dom";

const chartTitle = $<HTMLSpanElement>("#chart-title");
const chartDelay = $<HTMLSpanElement>("#chart-delay");
const chartPrice = $<HTMLSpanElement>("#chart-price");
const dayEl = $<HTMLElement>("#day");
const rangeButtons = [...document.querySelectorAll<HTMLButtonElement>(".ranges button")];
const announcer = $<HTMLDivElement>("#announcer");
const viewersEl = $<HTMLSpanElement>("#viewers");

const RANGE_KEY = "edge-ticker:range";
const SESSION_TEXT = {
  REGULAR: "Market open",
  PRE: "Pre-market",
  POST: "After hours",
  CLOSED: "Market closed",
} as const;
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 });

/** The selected symbol: its chart (bars, then live ticks), the day's figures, its delay marker and viewer count. */
export class Details {
  private readonly chart = new CandleChart($("#chart"));
  private range: Range = localStorage.getItem(RANGE_KEY) === "5D" ? "5D" : "1D";
  private selected: string | undefined;
  private unwatchViewers: (() => void) | undefined;

  constructor(
    private readonly client: TickerClient,
    /** The newest tick shown of a symbol. */
    private readonly latest: (symbol: string) => Tick | undefined,
  ) {
    for (const b of rangeButtons) {
      b.setAttribute("aria-pressed", String(b.dataset.range === this.range));
      b.addEventListener("click", () => this.setRange(b.dataset.range as Range));
    }
  }

  get symbol(): string | undefined {
    return this.selected;
  }

  async select(symbol: string | undefined): Promise<void> {
    this.selected = symbol;
    this.unwatchViewers?.();
    viewersEl.textContent = "";
    this.unwatchViewers = symbol
      ? this.client.viewers(symbol, ({ viewers }) => {
          viewersEl.textContent = `${viewers.toLocaleString()} watching`;
        })
      : undefined;
    chartTitle.textContent = symbol ?? "No symbol";
    this.chart.reset([], this.range);
    const last = symbol ? this.latest(symbol) : undefined;
    showDelay(last);
    showDay(last);
    // Screen readers hear the price of the symbol picked, once: the table itself is not live (no word per tick).
    announcer.textContent = symbol && last ? `${symbol} ${formatPrice(last)}, ${formatPercent(last)}` : "";
    if (symbol) await this.loadBars(symbol);
  }

  /** A tick of the selected symbol. */
  tick(tick: Tick): void {
    this.chart.add(tick);
    showDelay(tick);
    showDay(tick);
  }

  /**
   * The chart's candles for the range: the day (one-minute bars since the newest session's
   * open) or five days (five-minute bars); live ticks then move the last candle.
   */
  private async loadBars(symbol: string): Promise<void> {
    const shown = this.range;
    const answer = await this.client.api
      .bars(symbol, { interval: RANGES[shown].interval, limit: 2000 })
      .catch(() => {});
    if (!answer || this.selected !== symbol || this.range !== shown) return;
    const bars = shown === "1D" ? sinceOpen(answer) : answer.bars;
    const live = this.latest(symbol);
    this.chart.reset(bars, shown, live?.seq);
    if (live) this.chart.add(live);
  }

  private setRange(next: Range): void {
    this.range = next;
    localStorage.setItem(RANGE_KEY, next);
    for (const b of rangeButtons) b.setAttribute("aria-pressed", String(b.dataset.range === next));
    this.chart.reset([], next);
    if (this.selected) void this.loadBars(this.selected);
  }
}

/** The day's figures beside the chart: open, high, low, previous close, volume and the session, from the newest tick. */
function showDay(tick: Tick | undefined): void {
  const price = (v: number | undefined) => (v === undefined ? "–" : formatPrice({ price: v }));
  const fields: Record<string, string> = {
    open: price(tick?.open),
    high: price(tick?.high),
    low: price(tick?.low),
    prevClose: price(tick?.prevClose),
    volume: dayVolumeText(tick),
    session: tick?.marketState ? SESSION_TEXT[tick.marketState] : "–",
  };
  for (const dd of dayEl.querySelectorAll<HTMLElement>("dd")) dd.textContent = fields[dd.dataset.field!] ?? "–";
  chartPrice.textContent = tick ? `${formatPrice(tick)} ${formatPercent(tick)}` : "";
  chartPrice.dataset.direction = tick ? direction(tick) : "";
}

/** The chart's marker: shown while its prices are delayed. */
function showDelay(tick: Tick | undefined): void {
  const delay = tick && delayLabel(tick);
  chartDelay.textContent = delay ?? "";
  chartDelay.hidden = delay === undefined;
}

/** The session's running volume (older servers sent it as `volume`). */
function dayVolumeText(tick: Tick | undefined): string {
  const day = tick?.dayVolume ?? tick?.volume;
  return day === undefined ? "–" : compact.format(day);
}
