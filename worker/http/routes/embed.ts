import { Hono } from "hono";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { frameAncestors, isOriginAllowed } from "../origin";

const THEMES = new Set(["light", "dark"]);
const LAYOUTS = new Set(["tape", "card", "table"]);
/** Enough for 20 of the longest symbols and their commas; the widget explains what is past 20. */
const MAX_SYMBOLS_PARAM = 1_000;

/** Text for a double-quoted HTML attribute. */
function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * `GET /api/origin`: whether the calling page's origin may connect (the widget asks, so a
 * site that is not enabled shows a message instead of retrying forever). Readable by any origin.
 * `GET /embed?symbols=&theme=&layout=`: the widget as a page for an iframe, framable only
 * by allowed origins; it fills the frame, so any height shows its whole border.
 */
export const embedRoutes = new Hono<{ Bindings: Env }>()
  .get("/api/origin", (c) => {
    const allowed = isOriginAllowed(c.req.header("Origin") ?? null, c.req.url, readConfig(c.env));
    return c.json({ allowed }, 200, { "Access-Control-Allow-Origin": "*", "Cache-Control": "no-store" });
  })
  .get("/embed", (c) => {
    // Passed on as given: the widget says which symbols are not valid, over 20, or unknown.
    const symbols = c.req.query("symbols") ?? "AAPL";
    const theme = c.req.query("theme") ?? "";
    const layout = c.req.query("layout") ?? "";
    const attrs = [
      `symbols="${escapeAttribute(symbols.slice(0, MAX_SYMBOLS_PARAM))}"`,
      THEMES.has(theme) ? `theme="${theme}"` : "",
      LAYOUTS.has(layout) ? `layout="${layout}"` : "",
    ]
      .filter(Boolean)
      .join(" ");
    const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge Ticker</title><style>html,body{margin:0;height:100%;background:transparent}edge-ticker{height:100%}</style>
<script src="/widget.js" async></script></head>
<body><edge-ticker ${attrs}></edge-ticker></body></html>`;
    return c.html(page, 200, {
      "Content-Security-Policy": `frame-ancestors ${frameAncestors(readConfig(c.env))}`,
      "Cache-Control": "no-store",
    });
  });
