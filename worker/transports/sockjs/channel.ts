/** What an application sees of a SockJS connection, whatever the transport. */
export interface Channel {
  send(text: string): void;
  /** Several messages at once: one transport write (one `a[...]` frame) where the transport allows. */
  sendAll(texts: readonly string[]): void;
  close(code: number, reason: string): void;
}

/** The application side of one session. */
export interface SessionHandler {
  /** Each client message, in order. */
  message(text: string): void;
  /** The session is over (closed by either side, or timed out). Called once. */
  closed(): void;
}

/** Starts the application side of a new session; `request` is the one that opened it. */
export type OpenSession = (channel: Channel, request: Request) => SessionHandler;
