/** Hibernatable WebSockets of a hub, both kinds: raw STOMP sockets and SockJS-framed ones. */
import { closeFrame, messageFrame, OPEN_FRAME } from "../protocol/sockjs/frames";
import type { Channel } from "./sockjs/channel";

/** Tag that marks a hibernatable socket as SockJS-framed (untagged sockets carry raw frames). */
export const SOCKJS_TAG = "sockjs";

/** Accepts a websocket upgrade as a hibernatable socket; SockJS ones get the open frame first. */
export function acceptSocket(
  ctx: DurableObjectState,
  sockjs: boolean,
  headers: Record<string, string> = {},
): { socket: WebSocket; response: Response } {
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server, sockjs ? [SOCKJS_TAG] : []);
  if (sockjs) server.send(OPEN_FRAME);
  return { socket: server, response: new Response(null, { status: 101, webSocket: client, headers }) };
}

export function isSockJSSocket(ctx: DurableObjectState, ws: WebSocket): boolean {
  return ctx.getTags(ws).includes(SOCKJS_TAG);
}

/** A socket as an application channel: SockJS frames on tagged sockets, raw text otherwise. */
export function socketChannel(ws: WebSocket, sockjs: boolean): Channel {
  const sendAll = (texts: readonly string[]) => {
    try {
      // Raw sockets: STOMP frames end in NUL, so several make one valid message.
      ws.send(sockjs ? messageFrame(texts) : texts.join(""));
    } catch {
      // The peer is gone; its close event cleans up.
    }
  };
  return {
    send: (text) => sendAll([text]),
    sendAll,
    close(code, reason) {
      try {
        if (sockjs) ws.send(closeFrame(code, reason));
        ws.close(code, reason);
      } catch {
        // Already closing.
      }
    },
  };
}

/** Text of a websocket message (clients may send binary frames). */
export function messageText(message: string | ArrayBuffer): string {
  return typeof message === "string" ? message : new TextDecoder().decode(message);
}

/**
 * Answers the peer's close with ours (1005, "no code", cannot be sent back). Still needed on
 * compatibility dates from 2026-04-07: the runtime's automatic close reply does not cover
 * hibernatable sockets (measured on workerd 2026-11-17; test/e2e/hubs.test.ts).
 */
export function completeClose(ws: WebSocket, code: number): void {
  try {
    ws.close(code === 1005 ? 1000 : code, "closed");
  } catch {
    // Already closed: the runtime may have completed the close handshake itself.
  }
}
