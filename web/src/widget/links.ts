import { TickerCore } from "../../../client/src/core";

const HIDDEN_GRACE_MS = 10_000;
export const DEFAULT_THROTTLE_MS = 1_000;
const HIDDEN_THROTTLE_MS = 10_000;

/** What a widget tells its connection: which one (by token URL) and the throttle it asks for. */
export interface Viewer {
  readonly tokenUrl: string;
  readonly throttleMs: number;
}

const scriptUrl = (document.currentScript as HTMLScriptElement | null)?.src ?? location.href;
/** The Edge Ticker host: where widget.js came from. */
export const HOST = new URL(scriptUrl).origin;

const viewers = new Set<Viewer>();
/** One connection per token URL ("" for none: the public, who may see prices delayed). */
const shared = new Map<string, TickerCore>();
let hidden = false;

/** What every widget of each connection can live with: the smallest throttle asked for, or 10 s while hidden. */
export function applyThrottle(): void {
  for (const [tokenUrl, client] of shared) {
    const wanted = Math.min(...[...viewers].filter((w) => w.tokenUrl === tokenUrl).map((w) => w.throttleMs));
    client.setThrottle(
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

/** The connection `viewer` shares with every widget of its token URL (the URL is the embedding site's, relative to the page). */
export function join(viewer: Viewer): TickerCore {
  viewers.add(viewer);
  let client = shared.get(viewer.tokenUrl);
  if (!client) {
    const tokenUrl = viewer.tokenUrl ? new URL(viewer.tokenUrl, location.href).href : undefined;
    // The compact form: an embed watched all day on a phone costs a fifth of the bytes.
    client = new TickerCore({
      url: HOST,
      checkOrigin: true,
      throttleMs: DEFAULT_THROTTLE_MS,
      tokenUrl,
    });
    shared.set(viewer.tokenUrl, client);
  }
  applyThrottle();
  return client;
}

export function leave(viewer: Viewer): void {
  viewers.delete(viewer);
  applyThrottle();
}
