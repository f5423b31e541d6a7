/** Shadow-DOM styles: `all: initial` keeps the host page's CSS out; nothing here leaks out. */
export const WIDGET_CSS = `
:host { all: initial; display: block; contain: content;
  --bg: #fff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --up: #1a7f37; --down: #cf222e; }
:host([theme="dark"]) { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --up: #3fb950; --down: #f85149; }
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"])) { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --up: #3fb950; --down: #f85149; }
}
/* Set on the inner root too: a host page rule on <edge-ticker> itself would otherwise be inherited. */
.root { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; text-align: left; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 8px; padding: 7px 10px; font-variant-numeric: tabular-nums; }
.sym { font-weight: 600; }
.up { color: var(--up); } .down { color: var(--down); } .muted, .note { color: var(--muted); }
svg.up { color: var(--up); } svg.down { color: var(--down); }
.stale .price { color: var(--muted); }
.delay { font-size: 10px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 3px; white-space: nowrap; }
.card .delay { display: inline-block; margin-top: 2px; }
.note { font-size: 12px; margin: 0; }
.tape { display: flex; gap: 18px; overflow-x: auto; white-space: nowrap; scrollbar-width: none; }
.tape .item { display: inline-flex; gap: 6px; align-items: baseline; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(133px, 1fr)); gap: 7px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 7px; }
.card .price { font-size: 1.15em; display: block; }
.card svg { display: block; width: 100%; height: 28px; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: 3px 6px; text-align: right; border-bottom: 1px solid var(--line); font-weight: normal; }
th { text-align: left; }
tr:last-child td, tr:last-child th { border-bottom: 0; }
.flash { animation: flash .7s ease-out; }
@keyframes flash { from { background: color-mix(in srgb, currentColor 15%, transparent); } to { background: transparent; } }
@media (prefers-reduced-motion: reduce) { .flash { animation: none; } }
.brand { display: block; text-align: right; font-size: 10px; color: var(--muted); margin-top: 4px; }
`;
