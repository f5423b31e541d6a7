import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import type { Env } from "../env";
import { decodeSocketMessage, OPEN_FRAME } from "../protocol/sockjs/frames";
import { acceptSocket, completeClose, isSockJSSocket, messageText, socketChannel } from "../transports/sockets";
import type { Channel, SessionHandler } from "../transports/sockjs/channel";
import { forwardedRoute } from "../transports/sockjs/forwarding";
import { SessionServer } from "../transports/sockjs/session-server";
import { isTestService, TEST_SERVICES, testServiceOptions } from "../transports/sockjs/test-services";

/**
 * Hosts one SockJS protocol-suite service (`echo`, `close`, ...), named by its id. It
 * runs the same session server and socket framing as the ticker, with a trivial
 * application, so the suite checks the product's SockJS code itself.
 */
export class SockJSTestObject extends DurableObject<Env> {
  private readonly behaviour: "echo" | "close";
  private readonly server: SessionServer;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const name = ctx.id.name ?? "";
    if (!isTestService(name)) throw new Error(`unknown SockJS test service "${name}"`);
    this.behaviour = TEST_SERVICES[name].behaviour;
    this.server = new SessionServer(testServiceOptions(name, readConfig(env).sockjs), (channel) => this.open(channel));
  }

  override async fetch(request: Request): Promise<Response> {
    const route = forwardedRoute(request);
    if (!route) return new Response("not a SockJS request\n", { status: 400 });
    if (route.kind === "session" && route.transport !== "websocket") {
      return this.server.handle(request, route.sessionId, route.transport);
    }
    const sockjs = route.kind === "session";
    if (this.behaviour === "close") {
      // Not hibernatable: a hibernatable socket closed during fetch() completes its
      // close handshake only ~10 s later (measured on workerd); this one is gone at once.
      const { 0: client, 1: server } = new WebSocketPair();
      server.accept();
      if (sockjs) server.send(OPEN_FRAME);
      socketChannel(server, sockjs).close(3000, "Go away!");
      return new Response(null, { status: 101, webSocket: client });
    }
    return acceptSocket(this.ctx, sockjs).response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const sockjs = isSockJSSocket(this.ctx, ws);
    if (!sockjs) return ws.send(message);
    const messages = decodeSocketMessage(messageText(message));
    if (!messages) return ws.close(1002, "Broken framing.");
    const channel = socketChannel(ws, true);
    for (const m of messages) channel.send(m);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    completeClose(ws, code);
  }

  private open(channel: Channel): SessionHandler {
    if (this.behaviour === "close") channel.close(3000, "Go away!");
    return { message: (text) => channel.send(text), closed: () => {} };
  }
}
