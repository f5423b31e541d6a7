import { MAX_THROTTLE_MS, MIN_THROTTLE_MS } from "../../../worker/broker/session-state";
import { fetchBars, LiveCandles, sinceOpen } from "../lib/bars";
import { type LinkState, type Refusal, TickerConnection } from "../lib/connection";
import { direction, formatChange, formatPercent, formatPrice } from "../lib/format";
import { parseSymbol, refusalText } from "../lib/symbol";
import { delayLabel, isStale, type Tick } from "../lib/tick";
import { tokenFromUrl } from "../lib/token-keeper";
import { sparkline } from "./sparkline";
import { WIDGET_CSS } from "./styles";

/**
 * `<edge-ticker symbols="AAPL,MSFT" theme="light|dark" layout="tape|card|table" throttle="1000"
 * token-url="/edge-ticker-token">`. Loaded with `<script src="https://HOST/widget.js" async>`;
 * it talks back to HOST. Widgets on a page share one connection per `token-url` (none: the
 * public, who may see prices delayed), which asks for at most one tick per `throttle` ms per
 * symbol (the smallest any of its widgets asks for), and one per 10 s while the tab is
 * hidden. `token-url` is the embedding site's own endpoint answering a short-lived token;
 * it is fetched before connecting and again before the token expires. A delayed price
 * always shows its marker ("Delayed 15 min"). While the connection is down the widget says
 * so and its prices read as stale; what is wrong with its attributes it says in a line.
 */

const MAX_SYMBOLS = 20;
/** A day of five-minute points at most (crypto trades 288 a day). */
const SPARK_POINTS = 288;
const SPARK_BUCKET_MS = 300_000;
const HIDDEN_GRACE_MS = 10_000;
const DEFAULT_THROTTLE_MS = 1_000;
const HIDDEN_THROTTLE_MS = 10_000;
/** How often prices are re-judged for staleness when no tick comes to do it. */
const STALE_CHECK_MS = 5_000;
/** The width of the tape's fade at its right edge (styles.ts: .more). */
const FADE_PX = 40;
const LAYOUTS = ["tape", "card", "table"] as const;
type Layout = (typeof LAYOUTS)[number];

const scriptUrl = (document.currentScript as HTMLScriptElement | null)?.src ?? location.href;
const HOST = new URL(scriptUrl).origin;

const widgets = new Set<EdgeTicker>();
/** One connection per token URL ("" for none). */
const shared = new Map<string, TickerConnection>();
let hidden = false;

/** What every widget of each connection can live with: the smallest throttle asked for, or 10 s while hidden. */
function applyThrottle(): void {
  for (const [tokenUrl, conn] of shared) {
    const wanted = Math.min(...[...widgets].filter((w) => w.tokenUrl === tokenUrl).map((w) => w.throttleMs));
    conn.setThrottle(
      hidden ? Math.max(HIDDEN_THROTTLE_MS, wanted) : Number.isFinite(wanted) ? wanted : DEFAULT_THROTTLE_MS,
    );
  }
}

// A hidden tab keeps its connections but slows to a tick per 10 s; a short grace avoids churn on quick tab switches.
let hideTimer: ReturnType<typeof setTimeout> | undefined;
document.addEventListener("visibilitychange", () => {
  clearTimeout(hideTimer);
  if (document.hidden) {
    hideTimer = setTimeout(() => {
      hidden = true;
      applyThrottle();
    }, HIDDEN_GRACE_MS);
  } else if (hidden) {
    hidden = false;
    applyThrottle();
  }
});

function connection(tokenUrl: string): TickerConnection {
  let conn = shared.get(tokenUrl);
  if (!conn) {
    // The token URL is on the embedding site, relative to the page.
    const token = tokenUrl ? tokenFromUrl(new URL(tokenUrl, location.href).href) : undefined;
    conn = new TickerConnection(HOST, { checkOrigin: true, throttleMs: DEFAULT_THROTTLE_MS, token });
    shared.set(tokenUrl, conn);
  }
  return conn;
}

interface Entry {
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
interface SymbolList {
  symbols: string[];
  invalid: string[];
  over: number;
}

function readSymbols(raw: string): SymbolList {
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

/** Text for HTML (symbols are safe by their syntax; what was typed instead is not). */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

class EdgeTicker extends HTMLElement {
  static observedAttributes = ["symbols", "theme", "layout", "throttle", "token-url"];
  private readonly root: ShadowRoot;
  private readonly entries = new Map<string, Entry>();
  private list: SymbolList = { symbols: [], invalid: [], over: 0 };
  private unwatch: (() => void) | undefined;
  /** The connection this widget's data comes through (taken when it is attached). */
  private conn: TickerConnection | undefined;
  private link: LinkState = { kind: "idle" };
  /** Symbols with news since the last frame. */
  private readonly dirty = new Set<string>();
  private frame = 0;
  private staleTimer: ReturnType<typeof setInterval> | undefined;
  private readonly resize = new ResizeObserver(() => this.markOverflow());

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
  }

  /** The `throttle` attribute in ms (100 to 60,000; 1,000 when absent or invalid). */
  get throttleMs(): number {
    const value = Number(this.getAttribute("throttle") ?? DEFAULT_THROTTLE_MS);
    return Number.isInteger(value) && value >= MIN_THROTTLE_MS && value <= MAX_THROTTLE_MS
      ? value
      : DEFAULT_THROTTLE_MS;
  }

  /** The `token-url` attribute ("" when absent: the public policy). */
  get tokenUrl(): string {
    return this.getAttribute("token-url")?.trim() ?? "";
  }

  connectedCallback(): void {
    widgets.add(this);
    this.conn = connection(this.tokenUrl);
    applyThrottle();
    this.sync();
    this.unwatch ??= this.conn.onStatus((s) => this.onLink(s));
    this.staleTimer ??= setInterval(() => this.refreshStale(), STALE_CHECK_MS);
    this.resize.observe(this);
  }

  disconnectedCallback(): void {
    widgets.delete(this);
    this.conn = undefined;
    applyThrottle();
    for (const e of this.entries.values()) e.unsubscribe();
    this.entries.clear();
    this.unwatch?.();
    this.unwatch = undefined;
    clearInterval(this.staleTimer);
    this.staleTimer = undefined;
    this.resize.disconnect();
  }

  attributeChangedCallback(name: string): void {
    // An upgrade reports every attribute before connectedCallback: nothing to follow yet.
    if (!this.conn) return;
    if (name === "throttle") applyThrottle();
    else if (name === "token-url") {
      // Another connection: start over on it.
      this.disconnectedCallback();
      this.connectedCallback();
    } else this.sync();
  }

  private get layout(): Layout {
    const value = this.getAttribute("layout") as Layout | null;
    return value && LAYOUTS.includes(value) ? value : "tape";
  }

  /** Subscribes to exactly the symbols in the attribute, then renders. */
  private sync(): void {
    this.list = readSymbols(this.getAttribute("symbols") ?? "AAPL");
    const wanted = this.list.symbols;
    for (const [symbol, entry] of this.entries) {
      if (!wanted.includes(symbol)) {
        entry.unsubscribe();
        this.entries.delete(symbol);
      }
    }
    for (const symbol of wanted) {
      if (this.entries.has(symbol)) continue;
      const entry: Entry = { spark: new LiveCandles(SPARK_BUCKET_MS), receivedAt: 0, unsubscribe: () => {} };
      this.entries.set(symbol, entry);
      entry.unsubscribe = this.conn!.subscribe(
        symbol,
        (tick) => this.onTick(symbol, entry, tick),
        (refusal) => this.onRefused(entry, refusal),
      );
      if (this.layout === "card") void this.fillSparkline(symbol, entry);
    }
    this.render();
  }

  /** The day since the open: five-minute closes from /api/bars, then live ticks extend it. */
  private async fillSparkline(symbol: string, entry: Entry): Promise<void> {
    const answer = await fetchBars(
      HOST,
      symbol,
      "interval=5m&limit=300",
      await this.conn!.authHeaders().catch(() => ({})),
    );
    if (!answer) return; // Not allowed or offline: the sparkline fills from live ticks.
    const day = sinceOpen(answer);
    if (day.length === 0) return;
    entry.spark.reset(day);
    this.schedule(symbol);
  }

  private onTick(symbol: string, entry: Entry, tick: Tick): void {
    if (entry.last && tick.seq <= entry.last.seq) return;
    entry.last = tick;
    entry.receivedAt = Date.now();
    // Trading ticks only (LiveCandles skips a closed market's drift).
    if (entry.spark.add(tick) === "added" && entry.spark.bars.length > SPARK_POINTS) entry.spark.bars.shift();
    this.schedule(symbol);
  }

  private onRefused(entry: Entry, refusal: Refusal): void {
    entry.refused = refusal;
    this.render();
  }

  /** The connection's state: a "not enabled" site gets its message; down, the prices read as stale and a line says so. */
  private onLink(state: LinkState): void {
    const wasStopped = this.link.kind === "stopped";
    this.link = state;
    if (wasStopped !== (state.kind === "stopped")) this.render();
    else this.showLink();
  }

  private showLink(): void {
    const root = this.root.querySelector<HTMLElement>(".root");
    const status = this.root.querySelector<HTMLElement>(".status");
    if (!root || !status) return;
    const down = this.link.kind === "reconnecting" || (this.link.kind === "connecting" && this.link.failures > 0);
    root.classList.toggle("offline", down);
    const text = down ? "Offline: reconnecting…" : "";
    if (status.textContent !== text) status.textContent = text;
  }

  /** One update per animation frame however many ticks arrive; none while hidden. */
  private schedule(symbol: string): void {
    this.dirty.add(symbol);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const s of this.dirty) this.update(s);
      this.dirty.clear();
      this.markOverflow();
    });
  }

  /** Everything, afresh: on a change of attributes or refusals (ticks update their item in place). */
  private render(): void {
    const entries = [...this.entries].filter(([, e]) => !e.refused);
    const body =
      this.link.kind === "stopped"
        ? ""
        : entries.length === 0
          ? ""
          : this.layout === "card"
            ? `<ul class="cards" aria-label="Live prices">${entries.map(([s, e]) => this.item(s, e)).join("")}</ul>`
            : this.layout === "table"
              ? `<table aria-label="Live prices"><tbody>${entries.map(([s, e]) => this.item(s, e)).join("")}</tbody></table>`
              : `<div class="tape-wrap"><ul class="tape" aria-label="Live prices">${entries.map(([s, e]) => this.item(s, e)).join("")}</ul><span class="more" aria-hidden="true"></span></div>`;
    const notes = this.notes()
      .map((n) => `<p class="note">${n}</p>`)
      .join("");
    this.root.innerHTML = `<style>${WIDGET_CSS}</style><div class="root" part="root">${body}${notes}<p class="status" role="status"></p><span class="brand">Edge Ticker</span></div>`;
    this.root.querySelector(".tape")?.addEventListener("scroll", () => this.markOverflow(), { passive: true });
    this.showLink();
    this.markOverflow();
  }

  /** What is wrong, one short line each: for the site's owner, who can fix it. */
  private notes(): string[] {
    if (this.link.kind === "stopped") {
      return [`Edge Ticker is not enabled for ${escapeHtml(location.origin)}: add it to the ticker's ALLOWED_ORIGINS.`];
    }
    const notes: string[] = [];
    const { invalid, over, symbols } = this.list;
    if (invalid.length > 0) {
      const names = invalid.map((s) => `“${escapeHtml(s.slice(0, 24))}”`).join(", ");
      notes.push(`${invalid.length === 1 ? "Not a valid symbol" : "Not valid symbols"}: ${names}.`);
    }
    if (over > 0)
      notes.push(`Showing the first ${MAX_SYMBOLS} of ${symbols.length + over} symbols (the most one widget shows).`);
    for (const [symbol, entry] of this.entries) if (entry.refused) notes.push(`${refusalText(symbol, entry.refused)}.`);
    if (symbols.length === 0 && invalid.length === 0)
      notes.push('No symbols: set the symbols attribute, e.g. symbols="AAPL,MSFT".');
    return notes;
  }

  /** A symbol's item, redrawn in place (the list around it, its scroll position and focus stay). */
  private update(symbol: string): void {
    const entry = this.entries.get(symbol);
    const el = this.root.querySelector<HTMLElement>(`[data-symbol="${symbol}"]`);
    if (!entry || !el) return;
    const before = el.dataset.price;
    const template = document.createElement("template");
    template.innerHTML = this.item(symbol, entry);
    const fresh = template.content.firstElementChild as HTMLElement;
    const price = fresh.querySelector(".price");
    if (before && before !== fresh.dataset.price) price?.classList.add("flash");
    el.replaceWith(fresh);
  }

  /** Staleness is a matter of time too: items whose state changed without a tick are redrawn. */
  private refreshStale(): void {
    for (const [symbol, entry] of this.entries) {
      const el = this.root.querySelector<HTMLElement>(`[data-symbol="${symbol}"]`);
      const stale = entry.last !== undefined && isStale(entry.last, entry.receivedAt);
      if (el && el.classList.contains("stale") !== stale) this.update(symbol);
    }
  }

  /**
   * A tape wider than its box scrolls: a "+N" at the edge says how many symbols are out of
   * sight, and the tape takes keyboard focus so it can be scrolled without a pointer. An
   * iframe embed shorter than its content scrolls the same way.
   */
  private markOverflow(): void {
    const tape = this.root.querySelector<HTMLElement>(".tape");
    const more = this.root.querySelector<HTMLElement>(".more");
    if (tape && more) {
      // Out of sight: starting under the fade at the edge, or past it.
      const edge = tape.getBoundingClientRect().right - FADE_PX;
      const out = [...tape.children].filter((item) => item.getBoundingClientRect().left > edge).length;
      more.textContent = out > 0 ? `+${out}` : "";
      more.hidden = out === 0;
      focusableIf(tape, tape.scrollWidth > tape.clientWidth);
    }
    const root = this.root.querySelector<HTMLElement>(".root");
    if (root) focusableIf(root, root.scrollHeight > root.clientHeight + 1);
  }

  private item(symbol: string, entry: Entry): string {
    const t = entry.last;
    const stale = t !== undefined && isStale(t, entry.receivedAt);
    const attrs = `data-symbol="${symbol}" data-price="${t?.price ?? ""}" data-seq="${t?.seq ?? ""}" class="${this.layout === "card" ? "card" : "item"}${stale ? " stale" : ""}" title="${t ? label(t, stale) : `${symbol}: waiting for prices`}"`;
    const price = `<span class="price">${t ? formatPrice(t) : "…"}</span>`;
    const d = t ? direction(t) : "";
    if (this.layout === "table") {
      return `<tr ${attrs}><th class="sym" scope="row">${symbol}</th><td>${price}</td><td class="${d}">${t ? formatChange(t) : ""}</td><td class="${d}">${t ? formatPercent(t) : ""}</td><td>${delayMarker(t)}</td></tr>`;
    }
    if (this.layout === "card") {
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
}

/** Keyboard focus for a box that scrolls (and only then: a box that does not is no stop on the way). */
function focusableIf(el: HTMLElement, scrolls: boolean): void {
  if (scrolls === el.hasAttribute("tabindex")) return;
  if (scrolls) el.setAttribute("tabindex", "0");
  else el.removeAttribute("tabindex");
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

if (!customElements.get("edge-ticker")) customElements.define("edge-ticker", EdgeTicker);
