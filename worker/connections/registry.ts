import type { Connection } from "./connection";

/** Why a hub turns a new connection away. */
export type Refusal = "full" | "per-address";

/** How long a SockJS session id refused while full keeps being sent on to the next hub. */
const REFUSED_TTL_MS = 600_000;
const MAX_REFUSED = 10_000;

/**
 * The connections one hub holds, whatever their transport (`Handle`: a socket, or a SockJS
 * HTTP session), with the counts admission needs: the total (HUB_MAX_CONNECTIONS) and per
 * client address (MAX_CONNECTIONS_PER_ADDRESS; an unknown address, "", is not limited: it
 * would lump every client of a proxy-less self-host together). It also remembers SockJS
 * session ids refused while full, whose later requests belong to another hub. In memory:
 * a woken hub re-adds its sockets from their attachments. Pure: the caller owns time.
 */
export class Connections<Handle> {
  private readonly held = new Map<Handle, { connection: Connection; address: string }>();
  private readonly perAddress = new Map<string, number>();
  private readonly refusedUntil = new Map<string, number>();

  constructor(private readonly limits: { maxConnections: number; maxPerAddress: number }) {}

  get size(): number {
    return this.held.size;
  }

  /** Whether one more connection from `address` may be held here, or why not. */
  admit(address: string): Refusal | undefined {
    if (this.held.size >= this.limits.maxConnections) return "full";
    if (address !== "" && (this.perAddress.get(address) ?? 0) >= this.limits.maxPerAddress) return "per-address";
    return undefined;
  }

  add(handle: Handle, connection: Connection, address = ""): void {
    if (this.held.has(handle)) return;
    this.held.set(handle, { connection, address });
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
  }

  /** Forgets `handle`; its connection, if it was held. */
  remove(handle: Handle): Connection | undefined {
    const entry = this.held.get(handle);
    if (!entry) return undefined;
    this.held.delete(handle);
    const left = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(entry.address, left);
    else this.perAddress.delete(entry.address);
    return entry.connection;
  }

  get(handle: Handle): Connection | undefined {
    return this.held.get(handle)?.connection;
  }

  *values(): IterableIterator<Connection> {
    for (const { connection } of this.held.values()) yield connection;
  }

  *entries(): IterableIterator<[Handle, Connection]> {
    for (const [handle, { connection }] of this.held) yield [handle, connection];
  }

  /** A SockJS session refused while full: its later requests are sent on to the next hub. */
  refuse(sessionId: string, now: number): void {
    if (this.refusedUntil.size >= MAX_REFUSED) this.refusedUntil.delete(this.refusedUntil.keys().next().value!);
    this.refusedUntil.set(sessionId, now + REFUSED_TTL_MS);
  }

  refused(sessionId: string, now: number): boolean {
    return (this.refusedUntil.get(sessionId) ?? 0) > now;
  }

  /** Drops refusals that have run out. */
  sweep(now: number): void {
    for (const [id, until] of this.refusedUntil) if (until <= now) this.refusedUntil.delete(id);
  }
}
