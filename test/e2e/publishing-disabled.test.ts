import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";
import { connectStomp } from "../support/stomp";

let srv: DevServer;
beforeAll(async () => {
  // No publish token and no subscriber-token key (a token with pub:true could publish otherwise).
  srv = await startDevServer({ vars: { PUBLISH_TOKEN: "", AUTH_JWT_SECRET: "" } });
});
afterAll(async () => srv?.stop());

it("refuses every publish path when no PUBLISH_TOKEN is configured", async () => {
  const res = await fetch(`${srv.url}/api/ticks`, {
    method: "POST",
    headers: { authorization: "Bearer anything", "content-type": "application/json" },
    body: JSON.stringify({ symbol: "OFF", price: 5 }),
  });
  expect(res.status).toBe(403);
  expect(await res.text()).toBe("publishing is disabled: no PUBLISH_TOKEN is configured\n");
  // An empty passcode must not match an empty token.
  await expect(connectStomp(srv.url, "OFF", { headers: { passcode: "" } })).rejects.toThrow(/Bad credentials/);
  const quote = (await (await fetch(`${srv.url}/api/quotes?symbols=OFF`)).json()) as {
    quotes: Array<{ price: number; source: string }>;
  };
  expect(quote.quotes[0]).toEqual(expect.objectContaining({ source: "sim" }));
});
