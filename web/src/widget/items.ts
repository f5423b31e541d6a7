import type { Refusal } from "../../../client/src/checks";
import type { LiveCandles } from "../lib/bars";
import { direction, formatChange, formatPercent, formatPrice } from "../lib/format";
import { parseSymbol } from "../lib/symbol";
import { delayLabel, isStale, type Tick } from "../lib/tick";
import { sparkline } from "./sparkline";

const MAX_SYMBOLS = 20;
export const LAYOUTS = ["tape", "card", "table"] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface Entry {
  last?: Tick;
  /** When `last` arrived, on this page's clock. */
  receivedAt: number;
  /** The day's five-minute bars since the open (the sparkline: their closes), the last one moved by live ticks. */
  spark: LiveCandles;
  /** The host has no prices of it. */
  refused?: Refusal;
  unsubscribe: () => void;
}

/** The `symbols` attribute, read: what to show, what is not a symbol, and how many were past the limit. */
export interface SymbolList {
  symbols: string[];
  invalid: string[];
  over: number;
}

export function readSymbols(raw: string): SymbolList {
  const symbols: string[] = [];
  const invalid: string[] = [];
  for (const part of raw.split(",")) {
    if (part.trim() === "") continue;
    const symbol = parseSymbol(part);
    if (!symbol) invalid.push(part.trim());
    else if (!symbols.includes(symbol)) symbols.push(symbol);
  }
  return { symbols: symbols.slice(0, MAX_SYMBOLS), invalid, over: Math.max(0, symbols.length - MAX_SYMBOLS) };
}

/** What is wrong with the attribute, one short line each: for the site's owner, who can fix it. */
export function listNotes({ invalid, over, symbols }: SymbolList): string[] {
  const notes: string[] = [];
  if (invalid.length > 0) {
    const names = invalid.map((s) => `“${escapeHtml(s.slice(0, 24))}”`).join(", ");
    notes.push(`${invalid.length === 1 ? "Not a valid symbol" : "Not valid symbols"}: ${names}.`);
  }
  if (over > 0)
    notes.push(`Showing the first ${MAX_SYMBOLS} of ${symbols.length + over} symbols (the most one widget shows).`);
  if (symbols.length === 0 && invalid.length === 0)
    notes.push('No symbols: set the symbols attribute, e.g. symbols="AAPL,MSFT".');
  return notes;
}

/** Text for HTML (symbols are safe by their syntax; what was typed instead is not). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Keyboard focus for a box that scrolls (and only then: a box that does not is no stop on the way). */
export function focusableIf(el: HTMLElement, scrolls: boolean): void {
  if (scrolls === el.hasAttribute("tabindex")) return;
  if (scrolls) el.setAttribute("tabindex", "0");
  else el.removeAttribute("tabindex");
}

/** A symbol's item in `layout`, as HTML. */
export function item(layout: Layout, symbol: string, entry: Entry): string {
  const t = entry.last;
  const stale = t !== undefined && isStale(t, entry.receivedAt);
  const attrs = `data-symbol="${symbol}" data-price="${t?.price ?? ""}" data-seq="${t?.seq ?? ""}" class="${layout === "card" ? "card" : "item"}${stale ? " stale" : ""}" title="${t ? label(t, stale) : `${symbol}: waiting for prices`}"`;
  const price = `<span class="price">${t ? formatPrice(t) : "…"}</span>`;
  const d = t ? direction(t) : "";
  if (layout === "table") {
    return `<tr ${attrs}><th class="sym" scope="row">${symbol}</th><td>${price}</td><td class="${d}">${t ? formatChange(t) : ""}</td><td class="${d}">${t ? formatPercent(t) : ""}</td><td>${delayMarker(t)}</td></tr>`;
  }
  if (layout === "card") {
    const { points, ref } = sparkline(
      entry.spark.bars.map((b) => b.c),
      t?.prevClose,
    );
    // The previous close as a dotted reference line: above it the day is up.
    const refLine = ref
      ? `<line class="ref" x1="0" x2="100" y1="${ref}" y2="${ref}" stroke="currentColor" stroke-width="1" stroke-dasharray="2 2" vector-effect="non-scaling-stroke"/>`
      : "";
    const spark = points
      ? `<svg class="${d}" viewBox="0 0 100 28" preserveAspectRatio="none" aria-hidden="true">${refLine}<polyline points="${points}" fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg>`
      : "";
    return `<li ${attrs}><span class="sym">${symbol}</span>${price}<span class="line ${d}">${t ? `${formatChange(t)} (${formatPercent(t)})` : ""}</span>${delayMarker(t)}${spark}</li>`;
  }
  return `<li ${attrs}><span class="sym">${symbol}</span>${price}<span class="chg ${d}">${t ? formatPercent(t) : ""}</span>${delayMarker(t)}</li>`;
}

/** Shown beside every delayed price, as the exchanges' display rules require. */
function delayMarker(t: Tick | undefined): string {
  const delay = t && delayLabel(t);
  return delay ? `<span class="delay">${delay}</span>` : "";
}

function label(t: Tick, stale: boolean): string {
  const state = stale ? ", stale" : t.marketState === "CLOSED" ? ", market closed" : "";
  const delay = delayLabel(t);
  return `${t.symbol} ${formatPrice(t)} ${formatPercent(t)}${state}${delay ? `, ${delay.toLowerCase()}` : ""}`;
}
