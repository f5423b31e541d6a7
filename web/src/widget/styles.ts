/** Shadow-DOM styles: `all: initial` keeps the host page's CSS out; nothing here leaks out. */
export const WIDGET_CSS = `
:host { all: initial; display: block; contain: content;
  --bg: #fff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --up: #1a7f37; --down: #cf222e; --accent: #0969da; }
:host([theme="dark"]) { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --up: #3fb950; --down: #f85149; --accent: #4493f8; }
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"])) { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --up: #3fb950; --down: #f85149; --accent: #4493f8; }
}
/* Set on the inner root too: a host page rule on <edge-ticker> itself would otherwise be inherited.
   It fills a host given a height (the iframe embed), border included, and scrolls inside it. */
.root { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; text-align: left; background: var(--bg); color: var(--fg);
  border: 1px solid var(--line); border-radius: 8px; padding: 7px 10px; font-variant-numeric: tabular-nums;
  box-sizing: border-box; height: 100%; overflow: auto; container-type: inline-size; }
ul { list-style: none; margin: 0; padding: 0; }
.sym { font-weight: 600; }
.up { color: var(--up); } .down { color: var(--down); } svg .ref { opacity: .45; }
/* Stale, or the connection is down: the price is the last one known, and looks it. */
.stale .price, .offline .price { color: var(--muted); text-decoration: line-through dotted; }
.delay { font-size: 10px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 3px; white-space: nowrap; }
.card .delay { display: inline-block; margin-top: 2px; }
.note, .status { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.note:first-child { margin-top: 0; }
.status:empty { margin: 0; }
.tape-wrap { position: relative; }
.tape { display: flex; gap: 18px; overflow-x: auto; white-space: nowrap; scrollbar-width: none; }
.tape .item { display: inline-flex; gap: 6px; align-items: baseline; }
/* How many symbols are past the right edge: the tape scrolls. */
.more { position: absolute; right: 0; top: 0; bottom: 0; display: flex; align-items: center; min-width: 40px; justify-content: flex-end; box-sizing: border-box; padding-left: 16px; font-size: 12px; font-weight: 600; color: var(--muted);
  background: linear-gradient(to right, transparent, var(--bg) 16px); pointer-events: none; }
.more[hidden] { display: none; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(133px, 100%), 1fr)); gap: 7px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 7px; min-width: 0; }
.card .price { font-size: 1.15em; display: block; }
/* One line whatever the move (a large crypto change in dollars): the card's height stays what the embed snippet says. */
.card .line { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.card svg { display: block; width: 100%; height: 28px; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: 3px 6px; text-align: right; border-bottom: 1px solid var(--line); font-weight: normal; }
th { text-align: left; }
tr:last-child td, tr:last-child th { border-bottom: 0; }
/* A narrow table keeps the percentage and drops the absolute change. */
@container (max-width: 300px) { td:nth-child(3) { display: none; } td, th { padding: 3px 4px; } }
[tabindex]:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
/* Brief and faint: a move is noticed without the list ever looking tinted. */
.flash { animation: flash .35s ease-out; }
@keyframes flash { from { background: color-mix(in srgb, currentColor 12%, transparent); } to { background: transparent; } }
@media (prefers-reduced-motion: reduce) { .flash { animation: none; } }
.brand { display: block; text-align: right; font-size: 10px; color: var(--muted); margin-top: 4px; }
`;
