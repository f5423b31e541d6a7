import { age, messageRates, quantile, type StatusView, seconds } from "./view";

/**
 * The operator's status page: asks for the metrics token (kept in this tab's
 * sessionStorage only), then reads GET /api/status every REFRESH_MS and redraws.
 */
const REFRESH_MS = 2_000;
const TOKEN_KEY = "edge-ticker-metrics-token";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>("token-form");
const state = $<HTMLElement>("state");
let previous: StatusView | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const token = ($<HTMLInputElement>("token").value ?? "").trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  previous = undefined;
  void refresh();
});

async function refresh(): Promise<void> {
  if (timer !== undefined) clearTimeout(timer);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    form.hidden = false;
    state.textContent = "Enter the metrics token (METRICS_TOKEN, or the publish token).";
    return;
  }
  try {
    const res = await fetch("/api/status", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      form.hidden = false;
      state.textContent = `The token was refused: ${(await res.text()).trim()}`;
      return;
    }
    if (!res.ok) throw new Error(`${res.status} ${(await res.text()).trim()}`);
    const view = (await res.json()) as StatusView;
    form.hidden = true;
    render(view, messageRates(previous, view));
    previous = view;
    state.textContent = `Updated ${new Date(view.at).toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`;
    state.dataset.state = "live";
  } catch (err) {
    state.textContent = `Could not read the status (${String(err instanceof Error ? err.message : err)}): retrying`;
    state.dataset.state = "failed";
  }
  timer = setTimeout(() => void refresh(), REFRESH_MS);
}

function render(view: StatusView, rates: Map<string, number>): void {
  rows(
    "hubs",
    view.hubs.map((h) => [
      h.object,
      h.up ? "up" : "down",
      String(h.connections),
      Object.entries(h.byTransport)
        .map(([t, n]) => `${t} ${n}`)
        .join(", ") || "–",
      String(h.sessions),
      String(h.subscriptions),
      rates.has(h.object) ? rates.get(h.object)!.toFixed(1) : "…",
    ]),
    "No hub holds a connection.",
  );
  rows(
    "symbols",
    view.symbols.map((s) => [
      s.symbol,
      s.key.split(".")[0]!,
      String(s.viewers),
      age(s.lastAt, view.at),
      s.fault ?? "ok",
    ]),
    "Nobody watches anything.",
  );
  rows(
    "feed",
    view.feed.map((f) => [
      f.object,
      f.up ? (f.provider ?? "up") : "down",
      String(f.activeSymbols),
      f.budgetLeft === undefined ? "unlimited" : `${f.budgetLeft.toFixed(1)} of ${f.requestsPerMinute ?? "?"}/min`,
      String(f.quotesOk),
      String(f.quotesFailed),
    ]),
    "No scheduler shard answered.",
  );
  rows(
    "upstreams",
    view.upstreams.map((u) => [u.object, u.up ? (u.state ?? "up") : "down", String(u.symbols), String(u.reconnects)]),
    "None (the feed is polled).",
  );
  rows(
    "faults",
    view.faults.map((f) => [f.where, f.what]),
    "None.",
  );
  const { bounds, cumulative, count, sum } = view.lag;
  $("lag").textContent =
    count === 0
      ? "No tick delivered yet."
      : `p50 ${seconds(quantile(0.5, bounds, cumulative, count))} · p95 ${seconds(quantile(0.95, bounds, cumulative, count))} · mean ${seconds(sum / count)} · ${count} deliveries`;
  rows(
    "incidents",
    Object.entries(view.incidents).map(([what, n]) => [what.replace(/([A-Z])/g, " $1").toLowerCase(), String(n)]),
    "",
  );
}

/** Replaces a table body's rows (text only: nothing from the server is parsed as HTML). */
function rows(id: string, data: string[][], empty: string): void {
  const body = $<HTMLTableSectionElement>(id);
  const cols = body.closest("table")?.querySelectorAll("th").length ?? 1;
  body.replaceChildren(
    ...(data.length === 0 && empty ? [[empty]] : data).map((cells) => {
      const tr = document.createElement("tr");
      for (const cell of cells) {
        const td = document.createElement("td");
        td.textContent = cell;
        if (cells.length === 1) td.colSpan = cols;
        tr.append(td);
      }
      return tr;
    }),
  );
}

void refresh();
