import type { TickerClient } from "../../../client/src/client";
import { type ConnectionState, isFailing } from "../../../client/src/state";
import { formatAge } from "../lib/format";
import { $ } from "./dom";

const stateEl = $<HTMLSpanElement>("#link-state");
const detailEl = $<HTMLParagraphElement>("#link-detail");
const retryEl = $<HTMLSpanElement>("#link-retry");
const retryButton = $<HTMLButtonElement>("#retry-now");
const picker = $<HTMLSelectElement>("#transport");
const rowsEl = $<HTMLTableSectionElement>("#watchlist tbody");

/** The picker's choices: automatic, or one transport by hand (SockJS's by name). */
export const TRANSPORTS = [
  "auto",
  "websocket",
  "xhr-streaming",
  "xhr-polling",
  "eventsource",
  "iframe-eventsource",
  "jsonp-polling",
] as const;
export type TransportPick = (typeof TRANSPORTS)[number];

const TRANSPORT_KEY = "edge-ticker:transport";

/** The picked transport, as the client takes it: SockJS transports by name. */
export function transportOptions(pick: TransportPick) {
  return pick === "auto" || pick === "websocket"
    ? { transport: pick, sockjsTransports: undefined }
    : { transport: "sockjs" as const, sockjsTransports: [pick] };
}

/** The transport picked last time on this browser (auto when none). */
export function savedTransport(): TransportPick {
  const saved = localStorage.getItem(TRANSPORT_KEY) as TransportPick | null;
  return saved && TRANSPORTS.includes(saved) ? saved : "auto";
}

function stateText(s: ConnectionState): string {
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
function render(client: TickerClient, lastTick: () => number | undefined): void {
  const s = client.state;
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
  const lastTickAt = lastTick();
  if (lastTickAt) parts.push(`last tick ${formatAge(Date.now() - lastTickAt)}`);
  detailEl.textContent = parts.join(" · ");
}

/** The connection panel: state, countdown, "Retry now" and the transport picker (remembered). */
export function linkPanel(client: TickerClient, picked: TransportPick, lastTick: () => number | undefined): () => void {
  retryButton.addEventListener("click", () => client.retryNow());
  for (const t of TRANSPORTS) picker.add(new Option(t, t, false, t === picked));
  picker.addEventListener("change", () => {
    const pick = picker.value as TransportPick;
    localStorage.setItem(TRANSPORT_KEY, pick);
    const { transport, sockjsTransports } = transportOptions(pick);
    client.setTransport(transport, sockjsTransports);
  });
  client.on("state", () => render(client, lastTick));
  render(client, lastTick);
  return () => render(client, lastTick);
}
