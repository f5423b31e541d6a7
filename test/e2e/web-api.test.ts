/** The HTTP side of the web frontend: history, the origin check, the iframe page, static assets. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { postTicks } from "../support/publish";
import type { TickBody } from "../support/stomp";

let srv: DevServer;
beforeAll(async () => {
  srv = await startDevServer({ vars: { HISTORY_SIZE: "5", ALLOWED_ORIGINS: "https://site.example" } });
});
afterAll(async () => srv?.stop());

it("keeps the last HISTORY_SIZE ticks per symbol, oldest first", async () => {
  const prices = [10, 11, 12, 13, 14, 15, 16, 17];
  expect(
    (
      await postTicks(
        srv.url,
        prices.map((price) => ({ symbol: "HIST", price })),
        "test-publish-token",
      )
    ).status,
  ).toBe(200);
  const res = await fetch(`${srv.url}/api/history/hist?limit=5`);
  expect(res.status).toBe(200);
  const { symbol, ticks } = (await res.json()) as { symbol: string; ticks: TickBody[] };
  expect(symbol).toBe("HIST");
  expect(ticks.map((t) => t.price)).toEqual([13, 14, 15, 16, 17]);
  for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.seq).toBe(ticks[i - 1]!.seq + 1);
  const two = (await (await fetch(`${srv.url}/api/history/HIST?limit=2`)).json()) as { ticks: TickBody[] };
  expect(two.ticks.map((t) => t.price)).toEqual([16, 17]);
});

it("rejects bad history requests with 400 and a reason", async () => {
  for (const [query, reason] of [
    ["?limit=0", /limit must be an integer from 1 to 5/],
    ["?limit=6", /limit must be an integer from 1 to 5/],
    ["?limit=abc", /limit must be an integer/],
  ] as const) {
    const res = await fetch(`${srv.url}/api/history/HIST${query}`);
    expect(res.status, query).toBe(400);
    expect(await res.text()).toMatch(reason);
  }
  expect((await fetch(`${srv.url}/api/history/${encodeURIComponent("not a symbol")}`)).status).toBe(400);
});

it("lets allowed origins read the JSON API from a browser, and tells any page whether it is enabled", async () => {
  const allowed = await fetch(`${srv.url}/api/history/HIST?limit=1`, { headers: { Origin: "https://site.example" } });
  expect(allowed.headers.get("access-control-allow-origin")).toBe("https://site.example");
  const other = await fetch(`${srv.url}/api/quotes?symbols=HIST`, { headers: { Origin: "https://other.example" } });
  expect(other.headers.get("access-control-allow-origin")).toBeNull();

  const check = async (origin: string) => {
    const res = await fetch(`${srv.url}/api/origin`, { headers: { Origin: origin } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    return ((await res.json()) as { allowed: boolean }).allowed;
  };
  expect(await check("https://site.example")).toBe(true);
  expect(await check("https://other.example")).toBe(false);
});

it("serves the iframe widget page with the allow-list as frame-ancestors and only clean attributes", async () => {
  const res = await fetch(
    `${srv.url}/embed?symbols=aapl,${encodeURIComponent('"><script>')},msft&theme=dark&layout=${encodeURIComponent("x onload=alert(1)")}`,
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("content-security-policy")).toBe("frame-ancestors 'self' https://site.example");
  const html = await res.text();
  // Passed on escaped, as given: the widget explains what is wrong with a symbol.
  expect(html).toContain('<edge-ticker symbols="aapl,&#34;&#62;&#60;script&#62;,msft" theme="dark"></edge-ticker>');
  expect(html).not.toContain('"><script>');
  expect(html).toContain('<script src="/widget.js" async></script>');
});

it("serves the page, the widget and its documentation as static assets", async () => {
  const page = await fetch(`${srv.url}/`);
  expect(page.headers.get("content-type")).toMatch(/text\/html/);
  expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
  const widget = await fetch(`${srv.url}/widget.js`);
  expect(widget.status).toBe(200);
  expect(await widget.text()).toContain("edge-ticker");
  expect((await fetch(`${srv.url}/widget.html`)).status).toBe(200);
});
