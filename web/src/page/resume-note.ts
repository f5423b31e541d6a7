import type { Arrival } from "../../../client/src/positions";
import type { Tick } from "../lib/tick";
import { $ } from "./dom";

const streamNote = $<HTMLParagraphElement>("#stream-note");
const resumed = { replayed: new Map<string, number>(), lost: new Map<string, number | undefined>() };
let noteTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * After a reconnect, ticks missed meanwhile are replayed, or the newest arrives marked as
 * a gap: say so briefly. A jump in seq that is neither would be a silent gap: counted on
 * the row (`data-silent-gaps`), which must never happen.
 */
export function noteArrival(row: HTMLElement, previous: Tick | undefined, tick: Tick, arrival: Arrival): void {
  if (arrival.kind === "live") {
    if (previous && tick.seq > previous.seq + 1)
      row.dataset.silentGaps = String(Number(row.dataset.silentGaps ?? 0) + 1);
    return;
  }
  if (arrival.kind === "replayed") {
    resumed.replayed.set(tick.symbol, (resumed.replayed.get(tick.symbol) ?? 0) + 1);
    row.dataset.replayed = String(Number(row.dataset.replayed ?? 0) + 1);
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
