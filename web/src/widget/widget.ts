import { TickerConnection } from "../lib/connection";
import { direction, formatChange, formatPercent, formatPrice } from "../lib/format";
import { parseSymbol } from "../lib/symbol";
import { delayLabel, isStale, type Tick } from "../lib/tick";
import { tokenFromUrl } from "../lib/token-keeper";
import { sparklinePoints } from "./sparkline";
import { WIDGET_CSS } from "./styles";
import { MAX_THROTTLE_MS, MIN_THROTTLE_MS } from "../../../worker/broker/session-state";

/**
 * `<edge-ticker symbols="AAPL,MSFT" theme="light|dark" layout="tape|card|table" throttle="1000"
 * token-url="/edge-ticker-token">`. Loaded with `<script src="https://HOST/widget.js" async>`;
 * it talks back to HOST. Widgets on a page share one connection per `token-url` (none: the
 * public, who may see prices delayed), which asks for at most one tick per `throttle` ms per
 * symbol (the smallest any of its widgets asks for), and one per 10 s while the tab is
 * hidden. `token-url` is the embedding site's own endpoint answering a short-lived token;
 * it is fetched before connecting and again before the token expires. A delayed price
 * always shows its marker ("Delayed 15 min").
 */

const MAX_SYMBOLS = 20;
const SPARK_POINTS = 60;
const HIDDEN_GRACE_MS = 10_000;
const DEFAULT_THROTTLE_MS = 1_000;
const HIDDEN_THROTTLE_MS = 10_000;
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
    conn.setThrottle(hidden ? Math.max(HIDDEN_THROTTLE_MS, wanted) : Number.isFinite(wanted) ? wanted : DEFAULT_THROTTLE_MS);
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
  spark: number[];
  unsubscribe: () => void;
}

class EdgeTicker extends HTMLElement {
  static observedAttributes = ["symbols", "theme", "layout", "throttle", "token-url"];
  private readonly root: ShadowRoot;
  private readonly entries = new Map<string, Entry>();
  private unwatch: (() => void) | undefined;
  /** The connection this widget's data comes through (taken when it is attached). */
  private conn: TickerConnection | undefined;
  private notEnabled = false;
  private frame = 0;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
  }

  /** The `throttle` attribute in ms (100 to 60,000; 1,000 when absent or invalid). */
  get throttleMs(): number {
    const value = Number(this.getAttribute("throttle") ?? DEFAULT_THROTTLE_MS);
    return Number.isInteger(value) && value >= MIN_THROTTLE_MS && value <= MAX_THROTTLE_MS ? value : DEFAULT_THROTTLE_MS;
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
    this.unwatch ??= this.conn.onStatus((s) => {
      const blocked = s.state === "not-enabled";
      if (blocked !== this.notEnabled) {
        this.notEnabled = blocked;
        this.render();
      }
    });
  }

  disconnectedCallback(): void {
    widgets.delete(this);
    this.conn = undefined;
    applyThrottle();
    for (const e of this.entries.values()) e.unsubscribe();
    this.entries.clear();
    this.unwatch?.();
    this.unwatch = undefined;
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

  private get symbols(): string[] {
    const list = (this.getAttribute("symbols") ?? "AAPL")
      .split(",")
      .flatMap((s) => parseSymbol(s) ?? []);
    return [...new Set(list)].slice(0, MAX_SYMBOLS);
  }

  /** Subscribes to exactly the symbols in the attribute, then renders. */
  private sync(): void {
    const wanted = this.symbols;
    for (const [symbol, entry] of this.entries) {
      if (!wanted.includes(symbol)) {
        entry.unsubscribe();
        this.entries.delete(symbol);
      }
    }
    for (const symbol of wanted) {
      if (this.entries.has(symbol)) continue;
      const entry: Entry = { spark: [], receivedAt: 0, unsubscribe: () => {} };
      this.entries.set(symbol, entry);
      entry.unsubscribe = this.conn!.subscribe(symbol, (tick) => this.onTick(entry, tick));
      if (this.layout === "card") void this.fillSparkline(symbol, entry);
    }
    this.render();
  }

  private async fillSparkline(symbol: string, entry: Entry): Promise<void> {
    try {
      const headers = await this.conn!.authHeaders();
      const res = await fetch(`${HOST}/api/history/${encodeURIComponent(symbol)}?limit=${SPARK_POINTS}`, { headers });
      if (!res.ok) return;
      const { ticks } = (await res.json()) as { ticks: Tick[] };
      entry.spark = [...ticks.map((t) => t.price), ...entry.spark].slice(-SPARK_POINTS);
      this.schedule();
    } catch {
      // Not allowed or offline: the sparkline fills from live ticks.
    }
  }

  private onTick(entry: Entry, tick: Tick): void {
    if (entry.last && tick.seq <= entry.last.seq) return;
    entry.last = tick;
    entry.receivedAt = Date.now();
    entry.spark.push(tick.price);
    if (entry.spark.length > SPARK_POINTS) entry.spark.shift();
    this.schedule();
  }

  /** One render per animation frame however many ticks arrive; none while hidden. */
  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const previous = new Map<string, string>();
    for (const el of this.root.querySelectorAll<HTMLElement>("[data-symbol]")) previous.set(el.dataset.symbol!, el.dataset.price ?? "");
    const body = this.notEnabled
      ? `<p class="note" role="note">Edge Ticker is not enabled for this site.</p>`
      : this.layout === "card"
        ? `<div class="cards">${this.items((s, e) => this.card(s, e))}</div>`
        : this.layout === "table"
          ? `<table><tbody>${this.items((s, e) => this.row(s, e))}</tbody></table>`
          : `<div class="tape">${this.items((s, e) => this.tapeItem(s, e))}</div>`;
    this.root.innerHTML = `<style>${WIDGET_CSS}</style><div class="root" part="root">${body}<span class="brand">Edge Ticker</span></div>`;
    for (const el of this.root.querySelectorAll<HTMLElement>("[data-symbol]")) {
      const before = previous.get(el.dataset.symbol!);
      if (before && before !== el.dataset.price) el.classList.add("flash");
    }
  }

  private items(render: (symbol: string, entry: Entry) => string): string {
    return [...this.entries].map(([s, e]) => render(s, e)).join("");
  }

  private attrs(symbol: string, entry: Entry): string {
    const t = entry.last;
    const stale = t !== undefined && isStale(t, entry.receivedAt);
    return `data-symbol="${symbol}" data-price="${t?.price ?? ""}" data-seq="${t?.seq ?? ""}" class="${stale ? "stale" : ""}" title="${t ? label(t, stale) : `${symbol}: waiting for prices`}"`;
  }

  private tapeItem(symbol: string, entry: Entry): string {
    const t = entry.last;
    return `<span class="item" ${this.attrs(symbol, entry)}><span class="sym">${symbol}</span><span class="price">${t ? formatPrice(t) : "…"}</span><span class="chg ${t ? direction(t) : ""}">${t ? formatPercent(t) : ""}</span>${delayMarker(t)}</span>`;
  }

  private card(symbol: string, entry: Entry): string {
    const t = entry.last;
    const points = sparklinePoints(entry.spark);
    return `<div class="card" ${this.attrs(symbol, entry)}><span class="sym">${symbol}</span><span class="price">${t ? formatPrice(t) : "…"}</span><span class="${t ? direction(t) : ""}">${t ? `${formatChange(t)} (${formatPercent(t)})` : ""}</span>${delayMarker(t)}${points ? `<svg class="${t ? direction(t) : ""}" viewBox="0 0 100 28" preserveAspectRatio="none" aria-hidden="true"><polyline points="${points}" fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg>` : ""}</div>`;
  }

  private row(symbol: string, entry: Entry): string {
    const t = entry.last;
    const d = t ? direction(t) : "";
    return `<tr ${this.attrs(symbol, entry)}><th class="sym" scope="row">${symbol}</th><td class="price">${t ? formatPrice(t) : "…"}</td><td class="${d}">${t ? formatChange(t) : ""}</td><td class="${d}">${t ? formatPercent(t) : ""}</td><td>${delayMarker(t)}</td></tr>`;
  }
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
