/** How a STOMP connection reaches the host: a plain WebSocket, or SockJS (HTTP transports, or its own WebSocket). */
export type Carrier = "websocket" | "sockjs";

/** What the caller asks for: WebSocket with a SockJS fallback, or one of them only. */
export type TransportChoice = "auto" | Carrier;

/** What the last attempt showed. `httpWorks`: whether the host answered HTTP after a WebSocket that never opened. */
export interface AttemptOutcome {
  carrier: Carrier;
  opened: boolean;
  httpWorks?: boolean;
}

/**
 * The carrier of the next attempt. A transport picked by hand is kept. In auto mode a
 * WebSocket is blocked only when it never opened while the host answered HTTP: a server
 * that is down (a deploy, a restart) fails both, and is retried on WebSocket. A fallback
 * to SockJS lasts one connection: every later reconnect tries WebSocket first again. Pure.
 */
export function nextCarrier(choice: TransportChoice, last: AttemptOutcome | undefined, hasWebSocket: boolean): Carrier {
  if (choice === "sockjs" || !hasWebSocket) return "sockjs";
  if (choice === "websocket") return "websocket";
  return last?.carrier === "websocket" && !last.opened && last.httpWorks === true ? "sockjs" : "websocket";
}
