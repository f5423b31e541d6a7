import { TickerConnection, TRANSPORTS, type LinkStatus, type TransportChoice } from "../lib/connection";
import { direction, formatAge, formatChange, formatPercent, formatPrice } from "../lib/format";
import { isStale, type Tick } from "../lib/tick";
import { PriceChart } from "./chart";
import { parseSymbol } from "../lib/symbol";
import { loadWatchlist, saveWatchlist } from "./watchlist-store";

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const rowsEl = $<HTMLTableSectionElement>("#watchlist tbody");
const addForm = $<HTMLFormElement>("#add-symbol");
const addInput = $<HTMLInputElement>("#symbol-input");
const addError = $<HTMLParagraphElement>("#add-error");
const stateEl = $<HTMLSpanElement>("#link-state");
const detailEl = $<HTMLSpanElement>("#link-detail");
const picker = $<HTMLSelectElement>("#transport");
const chartTitle = $<HTMLHeadingElement>("#chart-title");
const announcer = $<HTMLDivElement>("#announcer");

const TRANSPORT_KEY = "edge-ticker:transport";
const savedTransport = localStorage.getItem(TRANSPORT_KEY) as TransportChoice | null;
const connection = new TickerConnection(location.origin, {
  transport: savedTransport && TRANSPORTS.includes(savedTransport) ? savedTransport : "auto",
});
const chart = new PriceChart($("#chart"));
const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");

interface Row {
  el: HTMLTableRowElement;
  last?: Tick;
  unsubscribe: () => void;
}
const rows = new Map<string, Row>();
let symbols = loadWatchlist();
let selected = symbols[0];
let lastAnnounced = 0;

// ------------------------------------------------------------------ watchlist

function addRow(symbol: string): void {
  const el = document.createElement("tr");
  el.dataset.symbol = symbol;
  el.innerHTML = `
    <th scope="row"><button type="button" class="select" aria-pressed="false"></button></th>
    <td class="price">…</td><td class="change"></td><td class="pct"></td>
    <td class="state"></td>
    <td><button type="button" class="remove" aria-label="Remove ${symbol}">×</button></td>`;
  el.querySelector<HTMLButtonElement>(".select")!.textContent = symbol;
  el.querySelector<HTMLButtonElement>(".select")!.addEventListener("click", () => select(symbol));
  el.querySelector<HTMLButtonElement>(".remove")!.addEventListener("click", () => remove(symbol));
  rowsEl.append(el);
  const row: Row = { el, unsubscribe: () => {} };
  rows.set(symbol, row);
  row.unsubscribe = connection.subscribe(symbol, (tick) => onTick(row, tick));
}

function onTick(row: Row, tick: Tick): void {
  const previous = row.last;
  if (previous && tick.seq <= previous.seq) return;
  row.last = tick;
  const el = row.el;
  el.querySelector(".price")!.textContent = formatPrice(tick);
  el.querySelector(".change")!.textContent = formatChange(tick);
  el.querySelector(".pct")!.textContent = formatPercent(tick);
  el.dataset.direction = direction(tick);
  renderState(row);
  if (previous && !reduceMotion.matches && tick.price !== previous.price) {
    const cls = tick.price > previous.price ? "flash-up" : "flash-down";
    el.classList.remove("flash-up", "flash-down");
    void el.offsetWidth; // restart the animation
    el.classList.add(cls);
  }
  if (tick.symbol === selected) {
    chart.add(tick);
    // Screen readers hear the selected price now and then, not every tick.
    if (Date.now() - lastAnnounced > 30_000) {
      lastAnnounced = Date.now();
      announcer.textContent = `${tick.symbol} ${formatPrice(tick)}, ${formatPercent(tick)}`;
    }
  }
}

function renderState(row: Row): void {
  const tick = row.last;
  const cell = row.el.querySelector(".state")!;
  if (!tick) return;
  const stale = isStale(tick);
  const closed = tick.marketState === "CLOSED";
  row.el.classList.toggle("stale", stale);
  cell.textContent = stale ? "stale" : closed ? "closed" : tick.marketState === "REGULAR" || !tick.marketState ? "" : tick.marketState.toLowerCase();
  cell.setAttribute("title", stale ? `Last tick ${formatAge(Date.now() - tick.ts)}` : closed ? "Market closed" : "");
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
    addError.textContent = "Symbols are 1–16 characters: letters, digits, . - ^ =";
    addInput.setAttribute("aria-invalid", "true");
    return;
  }
  addError.textContent = "";
  addInput.removeAttribute("aria-invalid");
  addInput.value = "";
  if (!rows.has(symbol)) {
    symbols.push(symbol);
    saveWatchlist(symbols);
    addRow(symbol);
  }
  select(symbol);
});

// ------------------------------------------------------------------ chart

async function select(symbol: string | undefined): Promise<void> {
  selected = symbol;
  for (const [s, row] of rows) {
    row.el.classList.toggle("selected", s === symbol);
    row.el.querySelector(".select")!.setAttribute("aria-pressed", String(s === symbol));
  }
  chartTitle.textContent = symbol ?? "No symbol";
  chart.reset([]);
  if (!symbol) return;
  try {
    const res = await fetch(`/api/history/${encodeURIComponent(symbol)}?limit=300`);
    if (!res.ok || selected !== symbol) return;
    const { ticks } = (await res.json()) as { ticks: Tick[] };
    chart.reset(ticks);
    const live = rows.get(symbol)?.last;
    if (live) chart.add(live);
  } catch {
    // Offline: live ticks still extend the chart.
  }
}

// ------------------------------------------------------------------ connection panel

const STATE_TEXT: Record<LinkStatus["state"], string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  failed: "Connection failed",
  "not-enabled": "Not enabled for this site",
  paused: "Paused",
};

function renderLink(): void {
  const s = connection.current;
  stateEl.textContent = STATE_TEXT[s.state];
  stateEl.dataset.state = s.state;
  const parts: string[] = [];
  if (s.state === "connected" && s.transport) parts.push(`via ${s.transport}`);
  if (s.lastTickAt) parts.push(`last tick ${formatAge(Date.now() - s.lastTickAt)}`);
  if (s.retryAt && s.state !== "connected") parts.push(`retry in ${Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000))} s`);
  detailEl.textContent = parts.join(" · ");
}

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
