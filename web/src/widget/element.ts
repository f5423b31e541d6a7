import type { Refusal } from "../../../client/src/checks";
import type { TickerCore } from "../../../client/src/core";
import type { ConnectionState } from "../../../client/src/state";
import { MAX_THROTTLE_MS, MIN_THROTTLE_MS } from "../../../worker/broker/session-state";
import { LiveCandles, sinceOpen } from "../lib/bars";
import { refusalText } from "../lib/symbol";
import { isStale, type Tick } from "../lib/tick";
import {
  type Entry,
  escapeHtml,
  focusableIf,
  item,
  LAYOUTS,
  type Layout,
  listNotes,
  readSymbols,
  type SymbolList,
} from "./items";
import { DEFAULT_THROTTLE_MS, join, leave, type Viewer } from "./links";
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

/** A day of five-minute points at most (crypto trades 288 a day). */
const SPARK_POINTS = 288;
const SPARK_BUCKET_MS = 300_000;
/** How often prices are re-judged for staleness when no tick comes to do it. */
const STALE_CHECK_MS = 5_000;
/** The width of the tape's fade at its right edge (styles.ts: .more). */
const FADE_PX = 40;

export class EdgeTicker extends HTMLElement implements Viewer {
  static observedAttributes = ["symbols", "theme", "layout", "throttle", "token-url"];
  readonly #root: ShadowRoot;
  readonly #entries = new Map<string, Entry>();
  #list: SymbolList = { symbols: [], invalid: [], over: 0 };
  #unwatch: (() => void) | undefined;
  /** The connection this widget's data comes through (taken when it is attached). */
  #conn: TickerCore | undefined;
  #link: ConnectionState = { kind: "idle" };
  /** Symbols with news since the last frame. */
  readonly #dirty = new Set<string>();
  #frame = 0;
  #staleTimer: ReturnType<typeof setInterval> | undefined;
  readonly #resize = new ResizeObserver(() => this.#markOverflow());

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
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
    this.#conn = join(this);
    this.#sync();
    this.#unwatch ??= this.#conn.on("state", (s) => this.#onLink(s));
    this.#onLink(this.#conn.state);
    this.#staleTimer ??= setInterval(() => this.#refreshStale(), STALE_CHECK_MS);
    this.#resize.observe(this);
  }

  disconnectedCallback(): void {
    leave(this);
    this.#conn = undefined;
    for (const e of this.#entries.values()) e.unsubscribe();
    this.#entries.clear();
    this.#unwatch?.();
    this.#unwatch = undefined;
    clearInterval(this.#staleTimer);
    this.#staleTimer = undefined;
    this.#resize.disconnect();
  }

  attributeChangedCallback(name: string): void {
    // An upgrade reports every attribute before connectedCallback: nothing to follow yet.
    if (!this.#conn) return;
    if (name === "throttle") join(this);
    else if (name === "token-url") {
      // Another connection: start over on it.
      this.disconnectedCallback();
      this.connectedCallback();
    } else this.#sync();
  }

  get #layout(): Layout {
    const value = this.getAttribute("layout") as Layout | null;
    return value && LAYOUTS.includes(value) ? value : "tape";
  }

  /** Subscribes to exactly the symbols in the attribute, then renders. */
  #sync(): void {
    this.#list = readSymbols(this.getAttribute("symbols") ?? "AAPL");
    const wanted = this.#list.symbols;
    for (const [symbol, entry] of this.#entries) {
      if (!wanted.includes(symbol)) {
        entry.unsubscribe();
        this.#entries.delete(symbol);
      }
    }
    for (const symbol of wanted) {
      if (this.#entries.has(symbol)) continue;
      const entry: Entry = { spark: new LiveCandles(SPARK_BUCKET_MS), receivedAt: 0, unsubscribe: () => {} };
      this.#entries.set(symbol, entry);
      entry.unsubscribe = this.#conn!.subscribe(
        "ticks",
        symbol,
        { onRefused: (r) => this.#onRefused(entry, r) },
        (tick) => this.#onTick(symbol, entry, tick),
      );
      if (this.#layout === "card") void this.#fillSparkline(symbol, entry);
    }
    this.#render();
  }

  /** The day since the open: five-minute closes from /api/bars, then live ticks extend it. */
  async #fillSparkline(symbol: string, entry: Entry): Promise<void> {
    // Not allowed or offline: the sparkline fills from live ticks.
    const answer = await this.#conn!.api.bars(symbol, { interval: "5m", limit: 300 }).catch(() => {});
    const day = answer ? sinceOpen(answer) : [];
    if (day.length === 0) return;
    entry.spark.reset(day);
    this.#schedule(symbol);
  }

  #onTick(symbol: string, entry: Entry, tick: Tick): void {
    entry.last = tick;
    entry.receivedAt = Date.now();
    // Trading ticks only (LiveCandles skips a closed market's drift).
    if (entry.spark.add(tick) === "added" && entry.spark.bars.length > SPARK_POINTS) entry.spark.bars.shift();
    this.#schedule(symbol);
  }

  #onRefused(entry: Entry, refusal: Refusal): void {
    entry.refused = refusal;
    this.#render();
  }

  /** The connection's state: a "not enabled" site gets its message; down, the prices read as stale and a line says so. */
  #onLink(state: ConnectionState): void {
    const wasStopped = this.#link.kind === "stopped";
    this.#link = state;
    if (wasStopped !== (state.kind === "stopped")) this.#render();
    else this.#showLink();
  }

  #showLink(): void {
    const root = this.#root.querySelector<HTMLElement>(".root");
    const status = this.#root.querySelector<HTMLElement>(".status");
    if (!root || !status) return;
    const down = this.#link.kind === "reconnecting" || (this.#link.kind === "connecting" && this.#link.failures > 0);
    root.classList.toggle("offline", down);
    const text = down ? "Offline: reconnecting…" : "";
    if (status.textContent !== text) status.textContent = text;
  }

  /** One update per animation frame however many ticks arrive; none while hidden. */
  #schedule(symbol: string): void {
    this.#dirty.add(symbol);
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      for (const s of this.#dirty) this.#update(s);
      this.#dirty.clear();
      this.#markOverflow();
    });
  }

  /** Everything, afresh: on a change of attributes or refusals (ticks update their item in place). */
  #render(): void {
    const items = [...this.#entries]
      .filter(([, e]) => !e.refused)
      .map(([s, e]) => item(this.#layout, s, e))
      .join("");
    const body =
      this.#link.kind === "stopped" || items === ""
        ? ""
        : this.#layout === "card"
          ? `<ul class="cards" aria-label="Live prices">${items}</ul>`
          : this.#layout === "table"
            ? `<table aria-label="Live prices"><tbody>${items}</tbody></table>`
            : `<div class="tape-wrap"><ul class="tape" aria-label="Live prices">${items}</ul><span class="more" aria-hidden="true"></span></div>`;
    const notes = this.#notes()
      .map((n) => `<p class="note">${n}</p>`)
      .join("");
    this.#root.innerHTML = `<style>${WIDGET_CSS}</style><div class="root" part="root">${body}${notes}<p class="status" role="status"></p><span class="brand">Edge Ticker</span></div>`;
    this.#root.querySelector(".tape")?.addEventListener("scroll", () => this.#markOverflow(), { passive: true });
    this.#showLink();
    this.#markOverflow();
  }

  /** What is wrong, one short line each: for the site's owner, who can fix it. */
  #notes(): string[] {
    if (this.#link.kind === "stopped") {
      return [`Edge Ticker is not enabled for ${escapeHtml(location.origin)}: add it to the ticker's ALLOWED_ORIGINS.`];
    }
    const notes = listNotes(this.#list);
    for (const [symbol, entry] of this.#entries)
      if (entry.refused) notes.push(`${refusalText(symbol, entry.refused)}.`);
    return notes;
  }

  /** A symbol's item, redrawn in place (the list around it, its scroll position and focus stay). */
  #update(symbol: string): void {
    const entry = this.#entries.get(symbol);
    const el = this.#root.querySelector<HTMLElement>(`[data-symbol="${symbol}"]`);
    if (!entry || !el) return;
    const before = el.dataset.price;
    const template = document.createElement("template");
    template.innerHTML = item(this.#layout, symbol, entry);
    const fresh = template.content.firstElementChild as HTMLElement;
    const price = fresh.querySelector(".price");
    if (before && before !== fresh.dataset.price) price?.classList.add("flash");
    el.replaceWith(fresh);
  }

  /** Staleness is a matter of time too: items whose state changed without a tick are redrawn. */
  #refreshStale(): void {
    for (const [symbol, entry] of this.#entries) {
      const el = this.#root.querySelector<HTMLElement>(`[data-symbol="${symbol}"]`);
      const stale = entry.last !== undefined && isStale(entry.last, entry.receivedAt);
      if (el && el.classList.contains("stale") !== stale) this.#update(symbol);
    }
  }

  /**
   * A tape wider than its box scrolls: a "+N" at the edge says how many symbols are out of
   * sight, and the tape takes keyboard focus so it can be scrolled without a pointer. An
   * iframe embed shorter than its content scrolls the same way.
   */
  #markOverflow(): void {
    const tape = this.#root.querySelector<HTMLElement>(".tape");
    const more = this.#root.querySelector<HTMLElement>(".more");
    if (tape && more) {
      // Out of sight: starting under the fade at the edge, or past it.
      const edge = tape.getBoundingClientRect().right - FADE_PX;
      const out = [...tape.children].filter((item) => item.getBoundingClientRect().left > edge).length;
      more.textContent = out > 0 ? `+${out}` : "";
      more.hidden = out === 0;
      focusableIf(tape, tape.scrollWidth > tape.clientWidth);
    }
    const root = this.#root.querySelector<HTMLElement>(".root");
    if (root) focusableIf(root, root.scrollHeight > root.clientHeight + 1);
  }
}
