import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { freePort } from "./dev-server";

/** A file to serve, or an answer made per request (a site's own backend, such as a token endpoint). */
export type StaticEntry =
  | { path: string; type: string; replace?: Record<string, string> }
  | { type: string; respond: () => Promise<string> };

/** Serves fixed files on 127.0.0.1 (a third-party page embedding the ticker, in browser tests). */
export async function startStaticServer(
  files: Record<string, StaticEntry>,
): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    const file = files[new URL(req.url ?? "/", "http://x").pathname];
    if (!file) {
      res.writeHead(404).end("not found\n");
      return;
    }
    if ("respond" in file) {
      void file
        .respond()
        .then((body) => res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(body));
      return;
    }
    let body = readFileSync(file.path, "utf8");
    for (const [from, to] of Object.entries(file.replace ?? {})) body = body.replaceAll(from, to);
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(body);
  });
  await new Promise<void>((res) => server.listen(port, "127.0.0.1", res));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((res) => server.close(() => res())),
  };
}
