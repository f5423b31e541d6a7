import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  url: string;
  port: number;
  /** Drops every connection through it at once (both ends see the TCP connection reset). */
  cut(): void;
  /** While down, new connections are dropped as soon as they arrive. */
  down(on: boolean): void;
  close(): Promise<void>;
}

/** A TCP relay on 127.0.0.1 in front of `targetPort`: a network path a test can cut. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    cut() {
      for (const s of sockets) s.resetAndDestroy();
    },
    down(on) {
      refusing = on;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
