import { fetchBars, sinceOpen } from "../lib/bars";
import {
  type Arrival,
  isFailing,
  type LinkState,
  type Refusal,
  TickerConnection,
  TRANSPORTS,
  type TransportChoice,
} from "../lib/connection";
import { direction, formatAge, formatChange, formatPercent, formatPrice } from "../lib/format";
import { parseSymbol, refusalText, SYMBOL_RULE } from "../lib/symbol";
import { delayLabel, isStale, type Tick } from "../lib/tick";
import { CandleChart, RANGES, type Range } from "./chart";
import { loadWatchlist, saveWatchlist } from "./watchlist-store";

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const rowsEl = $<HTMLTableSectionElement>("#watchlist tbody");
const addForm = $<HTMLFormElement>("#add-symbol");
const addInput = $<HTMLInputElement>("#symbol-input");
const addError = $<HTMLParagraphElement>("#add-error");
const stateEl = $<HTMLSpanElement>("#link-state");
const detailEl = $<HTMLParagraphElement>("#link-detail");
const retryEl = $<HTMLSpanElement>("#link-retry");
const retryButton = $<HTMLButtonElement>("#retry-now");
const picker = $<HTMLSelectElement>("#transport");
const chartTitle = $<HTMLSpanElement>("#chart-title");
const chartDelay = $<HTMLSpanElement>("#chart-delay");
const chartPrice = $<HTMLSpanElement>("#chart-price");
const dayEl = $<HTMLElement>("#day");
const rangeButtons = [...document.querySelectorAll<HTMLButtonElement>(".ranges button")];
const announcer = $<HTMLDivElement>("#announcer");
const streamNote = $<HTMLParagraphElement>("#stream-note");
const viewersEl = $<HTMLSpanElement>("#viewers");

const TRANSPORT_KEY = "edge-ticker:transport";
const savedTransport = localStorage.getItem(TRANSPORT_KEY) as TransportChoice | null;
const connection = new TickerConnection(location.origin, {
  transport: savedTransport && TRANSPORTS.includes(savedTransport) ? savedTransport : "auto",
});
const chart = new CandleChart($("#chart"));
const RANGE_KEY = "edge-ticker:range";
let range: Range = localStorage.getItem(RANGE_KEY) === "5D" ? "5D" : "1D";
const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");

interface Row {
  el: HTMLTableRowElement;
  last?: Tick;
  /** When `last` arrived, on this page's clock (staleness is judged from it). */
  receivedAt: number;
  unsubscribe: () => void;
}
const rows = new Map<string, Row>();
let symbols = loadWatchlist();
let selected = symbols[0];
/** The symbol just typed in, until the host says whether it knows it. */
let justAdded: string | undefined;

// ------------------------------------------------------------------ watchlist

function addRow(symbol: string): void {
  const el = document.createElement("tr");
  el.dataset.symbol = symbol;
  el.innerHTML = `
    <th scope="row"><button type="button" class="select" aria-pressed="false"></button><span class="state"></span></th>
    <td class="price">…</td><td class="change"></td><td class="pct"></td>
    <td><button type="button" class="remove" aria-label="Remove ${symbol}">×</button></td>`;
  el.querySelector<HTMLButtonElement>(".select")!.textContent = symbol;
  el.querySelector<HTMLButtonElement>(".select")!.addEventListener("click", () => select(symbol));
  el.querySelector<HTMLButtonElement>(".remove")!.addEventListener("click", () => remove(symbol));
  rowsEl.append(el);
  const row: Row = { el, receivedAt: 0, unsubscribe: () => {} };
  rows.set(symbol, row);
  row.unsubscribe = connection.subscribe(
    symbol,
    (tick, arrival) => onTick(row, tick, arrival),
    (refusal) => onRefused(symbol, refusal),
  );
}

/**
 * The host has no such symbol. One just typed in goes back to the input with the reason,
 * so a typo costs nothing; one from the saved list stays, marked, until removed.
 */
function onRefused(symbol: string, refusal: Refusal): void {
  const row = rows.get(symbol);
  if (!row) return;
  if (justAdded === symbol) {
    justAdded = undefined;
    remove(symbol);
    addInput.value = symbol;
    showAddError(`${refusalText(symbol, refusal)}.`);
    return;
  }
  row.el.classList.add("refused");
  row.el.querySelector(".price")!.textContent = "—";
  const cell = row.el.querySelector(".state")!;
  cell.textContent = refusal.status === "unknown" ? "unknown" : "not carried";
  cell.setAttribute("title", refusal.reason);
}

function showAddError(message: string): void {
  addError.textContent = message;
  addInput.setAttribute("aria-invalid", "true");
  addInput.focus();
}

function onTick(row: Row, tick: Tick, arrival: Arrival): void {
  const previous = row.last;
  if (previous && tick.seq <= previous.seq) return;
  noteArrival(row, tick, arrival);
  row.last = tick;
  row.receivedAt = Date.now();
  const el = row.el;
  el.dataset.seq = String(tick.seq);
  const priceCell = el.querySelector<HTMLElement>(".price")!;
  priceCell.textContent = formatPrice(tick);
  el.querySelector(".change")!.textContent = formatChange(tick);
  el.querySelector(".pct")!.textContent = formatPercent(tick);
  el.dataset.direction = direction(tick);
  renderState(row);
  // A brief tint of the price cell only (none with reduced motion): the eye catches the move, the table stays calm.
  if (previous && !reduceMotion.matches && tick.price !== previous.price) {
    priceCell.classList.remove("flash-up", "flash-down");
    void priceCell.offsetWidth; // restart the animation
    priceCell.classList.add(tick.price > previous.price ? "flash-up" : "flash-down");
  }
  if (tick.symbol === selected) {
    chart.add(tick);
    showDelay(tick);
    showDay(tick);
  }
}

// ------------------------------------------------------------------ resuming

const resumed = { replayed: new Map<string, number>(), lost: new Map<string, number | undefined>() };
let noteTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * After a reconnect, ticks missed meanwhile are replayed, or the newest arrives marked as
 * a gap: say so briefly. A jump in seq that is neither would be a silent gap: counted on
 * the row (`data-silent-gaps`), which must never happen.
 */
function noteArrival(row: Row, tick: Tick, arrival: Arrival): void {
  const previous = row.last;
  if (arrival.kind === "live") {
    if (previous && tick.seq > previous.seq + 1)
      row.el.dataset.silentGaps = String(Number(row.el.dataset.silentGaps ?? 0) + 1);
    return;
  }
  if (arrival.kind === "replayed") {
    resumed.replayed.set(tick.symbol, (resumed.replayed.get(tick.symbol) ?? 0) + 1);
    row.el.dataset.replayed = String(Number(row.el.dataset.replayed ?? 0) + 1);
  } else {
    resumed.lost.set(tick.symbol, arrival.missed);
  }
  clearTimeout(noteTimer);
  noteTimer = setTimeout(showResumeNote, 300);
}

function showResumeNote(): void {
  const parts: string[] = [];
  const replayed = [...resumed.replayed.values()].reduce((a, b) => a + b, 0);
  if (replayed > 0) parts.push(`Back online: ${replayed} missed tick${replayed === 1 ? "" : "s"} replayed`);
  for (const [symbol, missed] of resumed.lost) {
    parts.push(
      `${symbol}: ${missed === undefined ? "some ticks" : `${missed} tick${missed === 1 ? "" : "s"}`} could not be recovered`,
    );
  }
  resumed.replayed.clear();
  resumed.lost.clear();
  streamNote.textContent = parts.join(" · ");
  streamNote.hidden = parts.length === 0;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => {
    streamNote.hidden = true;
  }, 8_000);
}

function renderState(row: Row): void {
  const tick = row.last;
  const cell = row.el.querySelector(".state")!;
  if (!tick) return;
  const stale = isStale(tick, row.receivedAt);
  const closed = tick.marketState === "CLOSED";
  row.el.classList.toggle("stale", stale);
  const state = stale
    ? "stale"
    : closed
      ? "closed"
      : tick.marketState === "REGULAR" || !tick.marketState
        ? ""
        : tick.marketState.toLowerCase();
  // A delayed price says so wherever it is shown (the exchanges' display rules).
  const delay = delayLabel(tick);
  row.el.classList.toggle("delayed", delay !== undefined);
  cell.textContent = [delay, state].filter(Boolean).join(" · ");
  cell.setAttribute(
    "title",
    stale ? `Last tick ${formatAge(Date.now() - row.receivedAt)}` : closed ? "Market closed" : "",
  );
}

const SESSION_TEXT = {
  REGULAR: "Market open",
  PRE: "Pre-market",
  POST: "After hours",
  CLOSED: "Market closed",
} as const;
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 });

/** The session's running volume (older servers sent it as `volume`). */
function dayVolumeText(tick: Tick | undefined): string {
  const day = tick?.dayVolume ?? tick?.volume;
  return day === undefined ? "–" : compact.format(day);
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

function remove(symbol: string): void {
  const row = rows.get(symbol);
  if (!row) return;
  row.unsubscribe();
  row.el.remove();
  rows.delete(symbol);
  symbols = symbols.filter((s) => s !== symbol);
  saveWatchlist(symbols);
  if (selected === symbol) select(symbols[0]);
}

addForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const symbol = parseSymbol(addInput.value);
  if (!symbol) {
    showAddError(SYMBOL_RULE);
    return;
  }
  addError.textContent = "";
  addInput.removeAttribute("aria-invalid");
  addInput.value = "";
  if (!rows.has(symbol)) {
    justAdded = symbol;
    symbols.push(symbol);
    saveWatchlist(symbols);
    addRow(symbol);
  }
  void select(symbol);
});

// ------------------------------------------------------------------ chart

let unwatchViewers: (() => void) | undefined;

async function select(symbol: string | undefined): Promise<void> {
  selected = symbol;
  unwatchViewers?.();
  viewersEl.textContent = "";
  unwatchViewers = symbol
    ? connection.watchViewers(symbol, (viewers) => {
        viewersEl.textContent = `${viewers.toLocaleString()} watching`;
      })
    : undefined;
  for (const [s, row] of rows) {
    row.el.classList.toggle("selected", s === symbol);
    row.el.querySelector(".select")!.setAttribute("aria-pressed", String(s === symbol));
  }
  chartTitle.textContent = symbol ?? "No symbol";
  chart.reset([], range);
  const last = symbol ? rows.get(symbol)?.last : undefined;
  showDelay(last);
  showDay(last);
  // Screen readers hear the price of the symbol picked, once: the table itself is not live (no word per tick).
  announcer.textContent = symbol && last ? `${symbol} ${formatPrice(last)}, ${formatPercent(last)}` : "";
  if (symbol) await loadBars(symbol);
}

/**
 * The chart's candles for the range: the day (one-minute bars since the newest session's
 * open) or five days (five-minute bars); live ticks then move the last candle.
 */
async function loadBars(symbol: string): Promise<void> {
  const shown = range;
  const answer = await fetchBars("", symbol, `interval=${RANGES[shown].interval}&limit=2000`);
  if (!answer || selected !== symbol || range !== shown) return;
  const bars = shown === "1D" ? sinceOpen(answer) : answer.bars;
  const live = rows.get(symbol)?.last;
  chart.reset(bars, shown, live?.seq);
  if (live) chart.add(live);
}

function setRange(next: Range): void {
  range = next;
  localStorage.setItem(RANGE_KEY, next);
  for (const b of rangeButtons) b.setAttribute("aria-pressed", String(b.dataset.range === next));
  chart.reset([], next);
  if (selected) void loadBars(selected);
}
for (const b of rangeButtons) {
  b.setAttribute("aria-pressed", String(b.dataset.range === range));
  b.addEventListener("click", () => setRange(b.dataset.range as Range));
}

// ------------------------------------------------------------------ connection panel

function stateText(s: LinkState): string {
  switch (s.kind) {
    case "idle":
    case "connecting":
      return "Connecting…";
    case "open":
      return "Connected";
    case "reconnecting":
      return isFailing(s) ? "Connection failed" : "Reconnecting…";
    case "stopped":
      return "Not enabled for this site";
  }
}

/** The header says the state (a live region: changes are announced); the countdown and details are not announced. */
function renderLink(): void {
  const s = connection.current;
  const text = stateText(s);
  if (stateEl.textContent !== text) stateEl.textContent = text;
  stateEl.dataset.state = isFailing(s) ? "failed" : s.kind;
  const retrySeconds = s.kind === "reconnecting" ? Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000)) : undefined;
  retryEl.textContent = retrySeconds === undefined ? "" : `retry in ${retrySeconds} s`;
  retryButton.hidden = s.kind !== "reconnecting";
  // While down, the prices shown are the last ones known, and look it.
  rowsEl.classList.toggle("offline", s.kind === "reconnecting");
  const parts: string[] = [];
  if (s.kind === "open") parts.push(`via ${s.transport}`);
  if (s.kind === "connecting") parts.push(`trying ${s.carrier === "websocket" ? "WebSocket" : "SockJS"}`);
  if (connection.lastTickAt) parts.push(`last tick ${formatAge(Date.now() - connection.lastTickAt)}`);
  detailEl.textContent = parts.join(" · ");
}

retryButton.addEventListener("click", () => connection.retryNow());
for (const t of TRANSPORTS) picker.add(new Option(t, t, false, t === connection.transport));
picker.addEventListener("change", () => {
  const choice = picker.value as TransportChoice;
  localStorage.setItem(TRANSPORT_KEY, choice);
  connection.setTransport(choice);
});
connection.onStatus(renderLink);
setInterval(() => {
  renderLink();
  for (const row of rows.values()) renderState(row);
}, 1000);

for (const s of symbols) addRow(s);
void select(selected);
