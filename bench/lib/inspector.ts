import WebSocket from "ws";

/** Sends one DevTools protocol command to the inspected isolate; resolves with its result. */
export type InspectorSend = (method: string, params?: object) => Promise<Record<string, unknown>>;

/**
 * A minimal DevTools protocol client for the Edge Ticker worker's isolate (hubs, sources
 * and relays share it) on `npm start --inspector-port PORT`.
 */
export async function inspectWorker(port: number): Promise<InspectorSend> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{
    webSocketDebuggerUrl: string;
    title?: string;
  }>;
  // "workerd: worker core:user:edge-ticker", not the static-assets worker beside it.
  const target = targets.find((t) => /:edge-ticker$/.test(t.title ?? ""));
  if (!target) throw new Error(`no edge-ticker inspector target among: ${targets.map((t) => t.title).join(", ")}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.once("open", r));
  let next = 1;
  const pending = new Map<number, (v: Record<string, unknown>) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown> };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result ?? {});
  });
  return (method, params = {}) =>
    new Promise((res) => {
      const id = next++;
      pending.set(id, res);
      ws.send(JSON.stringify({ id, method, params }));
    });
}
