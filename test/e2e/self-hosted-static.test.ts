/** `npm start` serves the static files compressed per Accept-Encoding, as Cloudflare's edge does. */

import { request } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../support/dev-server";

let srv: DevServer;
beforeAll(async () => {
  srv = await startDevServer({ runtime: "workerd" });
});
afterAll(async () => srv?.stop());

/** A raw GET (fetch would decode the body and hide what went over the wire). */
function get(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${srv.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

it("serves widget.js gzip- or br-encoded when asked, and as it is otherwise", async () => {
  const plain = await get("/widget.js", {});
  expect(plain.status).toBe(200);
  expect(plain.headers["content-encoding"]).toBeUndefined();
  const gzip = await get("/widget.js", { "accept-encoding": "gzip" });
  expect(gzip.headers["content-encoding"]).toBe("gzip");
  expect(gzip.body.length).toBeLessThan(plain.body.length / 2);
  expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
  const br = await get("/widget.js", { "accept-encoding": "gzip, deflate, br" });
  expect(br.headers["content-encoding"]).toBe("br");
  expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
  expect(br.headers.vary).toMatch(/Accept-Encoding/i);
  // Revalidation still works on the compressed representation's (weak) ETag.
  const again = await get("/widget.js", { "accept-encoding": "gzip", "if-none-match": String(gzip.headers.etag) });
  expect(again.status).toBe(304);
  for (const path of ["/", "/styles.css", "/app.js"]) {
    expect((await get(path, { "accept-encoding": "gzip" })).headers["content-encoding"], path).toBe("gzip");
  }
});
