import { Client, type IFrame, type IMessage, type StompSubscription } from "@stomp/stompjs";
import SockJS from "sockjs-client";
import WebSocket from "ws";
import type { Tick } from "../../worker/market/tick";

/** A MESSAGE body, as the broker types it. */
export type TickBody = Tick;

export interface Connected {
  client: Client;
  connectedFrame: IFrame;
  errors: IFrame[];
  closed: Promise<{ code: number; reason: string }>;
  disconnect(): Promise<void>;
}

export interface ConnectOptions {
  headers?: Record<string, string>;
  origin?: string;
  heartbeat?: number;
  /** Connect through unmodified sockjs-client to /sockjs/{home}, forcing this transport. */
  sockjs?: "websocket" | "xhr-streaming" | "xhr-polling";
}

/**
 * An unmodified @stomp/stompjs client: over the `ws` package to /ws, or over
 * sockjs-client to /sockjs. With `home`, the older per-symbol URLs (/ws/{home},
 * /sockjs/{home}) are used; they reach a hub the same way.
 */
export async function connectStomp(baseUrl: string, home?: string, options: ConnectOptions = {}): Promise<Connected> {
  const suffix = home === undefined ? "" : `/${home}`;
  const errors: IFrame[] = [];
  let resolveClosed!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
  const client = new Client({
    webSocketFactory: () =>
      options.sockjs
        ? new SockJS(`${baseUrl}/sockjs${suffix}`, null, { transports: [options.sockjs] })
        : new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws${suffix}`, ["v12.stomp", "v11.stomp", "v10.stomp"], {
            headers: options.origin ? { Origin: options.origin } : {},
          }),
    connectHeaders: options.headers ?? {},
    reconnectDelay: 0,
    heartbeatIncoming: options.heartbeat ?? 0,
    heartbeatOutgoing: options.heartbeat ?? 0,
    onStompError: (frame) => errors.push(frame),
    onWebSocketClose: (evt) => resolveClosed({ code: evt.code, reason: evt.reason }),
  });
  const connectedFrame = await new Promise<IFrame>((res, rej) => {
    client.onConnect = res;
    client.onWebSocketError = (e) =>
      rej(new Error(`WebSocket error: ${String((e as { message?: string }).message ?? e)}`));
    client.onStompError = (frame) => {
      errors.push(frame);
      rej(new Error(`STOMP ERROR: ${frame.headers.message}`));
    };
    client.activate();
  });
  client.onStompError = (frame) => errors.push(frame);
  return { client, connectedFrame, errors, closed, disconnect: () => client.deactivate() };
}

/** Collects MESSAGE frames of one subscription. */
export class Collector {
  readonly messages: IMessage[] = [];
  readonly subscription: StompSubscription;
  private waiters: Array<() => void> = [];

  constructor(client: Client, destination: string, headers: Record<string, string> = {}) {
    this.subscription = client.subscribe(
      destination,
      (m) => {
        this.messages.push(m);
        for (const w of this.waiters) w();
      },
      headers,
    );
  }

  get ticks(): TickBody[] {
    return this.messages.map((m) => JSON.parse(m.body) as TickBody);
  }

  /** Resolves once `count` messages have arrived in total. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<TickBody[]> {
    if (this.messages.length >= count) return this.ticks;
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        rej(
          new Error(`got ${this.messages.length} of ${count} messages on ${this.subscription.id} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const check = () => {
        if (this.messages.length >= count) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          res();
        }
      };
      this.waiters.push(check);
    });
    return this.ticks;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
