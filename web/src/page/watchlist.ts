import type { Refusal } from "../../../client/src/checks";
import type { TickerClient } from "../../../client/src/client";
import type { Delivery } from "../../../client/src/core";
import { direction, formatAge, formatChange, formatPercent, formatPrice } from "../lib/format";
import { parseSymbol, refusalText, SYMBOL_RULE } from "../lib/symbol";
import { delayLabel, isStale, type Tick } from "../lib/tick";
import { $ } from "./dom";
import { noteArrival } from "./resume-note";
import { loadWatchlist, saveWatchlist } from "./watchlist-store";

const rowsEl = $<HTMLTableSectionElement>("#watchlist tbody");
const addForm = $<HTMLFormElement>("#add-symbol");
const addInput = $<HTMLInputElement>("#symbol-input");
const addError = $<HTMLParagraphElement>("#add-error");
const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");

interface Row {
  el: HTMLTableRowElement;
  last?: Tick;
  /** When `last` arrived, on this page's clock (staleness is judged from it). */
  receivedAt: number;
  unsubscribe: () => void;
}

/** The watched symbols (kept in localStorage), a row each with its live price, and the form that adds one. */
export class Watchlist {
  private readonly rows = new Map<string, Row>();
  private symbols = loadWatchlist();
  /** The symbol just typed in, until the host says whether it knows it. */
  private justAdded: string | undefined;
  private selected: string | undefined;
  /** When the newest tick of any row arrived, on this page's clock. */
  lastTickAt: number | undefined;

  constructor(
    private readonly client: TickerClient,
    private readonly onSelect: (symbol: string | undefined) => void,
    private readonly onSelectedTick: (tick: Tick) => void,
  ) {
    addForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.add(addInput.value);
    });
    for (const s of this.symbols) this.addRow(s);
  }

  /** The first symbol of the list (selected when the page opens). */
  get first(): string | undefined {
    return this.symbols[0];
  }

  latest(symbol: string): Tick | undefined {
    return this.rows.get(symbol)?.last;
  }

  /** Marks every row's state again: staleness is a matter of time too. */
  refresh(): void {
    for (const row of this.rows.values()) renderState(row);
  }

  select(symbol: string | undefined): void {
    this.selected = symbol;
    for (const [s, row] of this.rows) {
      row.el.classList.toggle("selected", s === symbol);
      row.el.querySelector(".select")!.setAttribute("aria-pressed", String(s === symbol));
    }
    this.onSelect(symbol);
  }

  private add(input: string): void {
    const symbol = parseSymbol(input);
    if (!symbol) {
      showAddError(SYMBOL_RULE);
      return;
    }
    addError.textContent = "";
    addInput.removeAttribute("aria-invalid");
    addInput.value = "";
    if (!this.rows.has(symbol)) {
      this.justAdded = symbol;
      this.symbols.push(symbol);
      saveWatchlist(this.symbols);
      this.addRow(symbol);
    }
    this.select(symbol);
  }

  private addRow(symbol: string): void {
    const el = document.createElement("tr");
    el.dataset.symbol = symbol;
    el.innerHTML = `
    <th scope="row"><button type="button" class="select" aria-pressed="false"></button><span class="state"></span></th>
    <td class="price">…</td><td class="change"></td><td class="pct"></td>
    <td><button type="button" class="remove" aria-label="Remove ${symbol}">×</button></td>`;
    el.querySelector<HTMLButtonElement>(".select")!.textContent = symbol;
    el.querySelector<HTMLButtonElement>(".select")!.addEventListener("click", () => this.select(symbol));
    el.querySelector<HTMLButtonElement>(".remove")!.addEventListener("click", () => this.remove(symbol));
    rowsEl.append(el);
    const row: Row = { el, receivedAt: 0, unsubscribe: () => {} };
    this.rows.set(symbol, row);
    row.unsubscribe = this.client.ticks(symbol, { onRefused: (r) => this.onRefused(symbol, r) }, (tick, delivery) =>
      this.onTick(row, tick, delivery),
    );
  }

  private remove(symbol: string): void {
    const row = this.rows.get(symbol);
    if (!row) return;
    row.unsubscribe();
    row.el.remove();
    this.rows.delete(symbol);
    this.symbols = this.symbols.filter((s) => s !== symbol);
    saveWatchlist(this.symbols);
    if (this.selected === symbol) this.select(this.symbols[0]);
  }

  /**
   * The host has no such symbol. One just typed in goes back to the input with the reason,
   * so a typo costs nothing; one from the saved list stays, marked, until removed.
   */
  private onRefused(symbol: string, refusal: Refusal): void {
    const row = this.rows.get(symbol);
    if (!row) return;
    if (this.justAdded === symbol) {
      this.justAdded = undefined;
      this.remove(symbol);
      addInput.value = symbol;
      showAddError(`${refusalText(symbol, refusal)}.`);
      return;
    }
    row.el.classList.add("refused");
    row.el.querySelector(".price")!.textContent = "—";
    const cell = row.el.querySelector(".state")!;
    cell.textContent = refusal.code === "unknown-symbol" ? "unknown" : "not carried";
    cell.setAttribute("title", refusal.reason);
  }

  private onTick(row: Row, tick: Tick, { arrival }: Delivery): void {
    const previous = row.last;
    noteArrival(row.el, previous, tick, arrival);
    row.last = tick;
    row.receivedAt = this.lastTickAt = Date.now();
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
    if (tick.symbol === this.selected) this.onSelectedTick(tick);
  }
}

function showAddError(message: string): void {
  addError.textContent = message;
  addInput.setAttribute("aria-invalid", "true");
  addInput.focus();
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
