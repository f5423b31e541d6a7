import type { StompHeaders, StompSubscription } from "@stomp/stompjs";
import { TICKS_KIND } from "../../worker/protocol/compact/fields";
import { CompactReader } from "../../worker/protocol/compact/reader";
import type { Decoded } from "./streams";
import type { Tick } from "./types";

/** The batch destination: a watchlist's ticker streams, each round of them in one MESSAGE. */
export const BATCH_DESTINATION = "/topic/tickers";

/** One ticks subscription of the client, as a batch holds it. */
export interface Member {
  symbol: string;
}

/** What the batches need of the client: its connection, each member's position, where values go. */
export interface BatchPort<M extends Member> {
  connected(): boolean;
  /** The member's throttle: members with the same one share a batch (`x-throttle-ms` is the batch's). */
  throttleOf(member: M): number | undefined;
  subscribe(destination: string, headers: StompHeaders, onBody: (body: string) => void): StompSubscription;
  /** The member's `x-since` value (`epoch:seq`), if anything of it was delivered. */
  since(member: M): string | undefined;
  deliver(member: M, decoded: Decoded<Tick>): void;
}

/** The members of one throttle, and the batch subscription that carries them now. */
interface Group<M extends Member> {
  members: Map<string, M>;
  /** The batch subscribed, with the symbols it was subscribed with (sorted, comma-joined). */
  live?: { stomp: StompSubscription; id: string; symbols: string };
}

/**
 * Watchlist batches (the compact form's `/topic/tickers`): the ticks subscriptions of one
 * connection, one batch per throttle, so a watchlist pays the STOMP header once a round, not
 * once a symbol. A change of members (several in one turn are one change) ends the old batch
 * and subscribes a new one resuming every member from its position (`x-since`): nothing is
 * missed between them (the server replays it), and what the old one still had on the way the
 * client's positions drop as duplicates. Ending the old one first keeps the connection's
 * subscriptions (each symbol counts toward `MAX_SUBSCRIPTIONS`) from doubling meanwhile.
 * Each batch reads its entries with a reader of its own (the server starts each batch whole).
 */
export class TickBatches<M extends Member> {
  readonly #groups = new Map<string, Group<M>>();
  /** The group each member was added to (its throttle then). */
  readonly #keys = new Map<M, string>();
  #count = 0;
  #scheduled = false;

  constructor(private readonly port: BatchPort<M>) {}

  add(member: M): void {
    const key = String(this.port.throttleOf(member) ?? "");
    this.#keys.set(member, key);
    let group = this.#groups.get(key);
    if (!group) {
      group = { members: new Map() };
      this.#groups.set(key, group);
    }
    group.members.set(member.symbol, member);
    this.#schedule();
  }

  remove(member: M): void {
    const key = this.#keys.get(member);
    this.#keys.delete(member);
    const group = key === undefined ? undefined : this.#groups.get(key);
    if (group?.members.get(member.symbol) !== member) return;
    group.members.delete(member.symbol);
    this.#schedule();
  }

  /** Whether `receipt` names one of the batches (an ERROR refusing it). */
  owns(receipt: string): boolean {
    for (const g of this.#groups.values()) if (g.live?.id === receipt) return true;
    return false;
  }

  /** The connection is gone: its batches with it (the members are added again when it opens). */
  reset(): void {
    this.#groups.clear();
    this.#keys.clear();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      // Not connected: the members are added again when it opens.
      if (this.port.connected()) for (const [key, group] of this.#groups) this.#resubscribe(key, group);
    });
  }

  #resubscribe(key: string, group: Group<M>): void {
    const members = [...group.members.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
    const symbols = members.map((m) => m.symbol).join(",");
    if (group.live?.symbols === symbols) return;
    group.live?.stomp.unsubscribe();
    group.live = undefined;
    if (members.length > 0) {
      const id = `batch-${++this.#count}`;
      const headers: StompHeaders = { id, receipt: id, "x-symbols": symbols };
      const since = members.flatMap((m) => {
        const at = this.port.since(m);
        return at ? [`${m.symbol}:${at}`] : [];
      });
      if (since.length > 0) headers["x-since"] = since.join(",");
      if (key !== "") headers["x-throttle-ms"] = key;
      const reader = new CompactReader(TICKS_KIND);
      const stomp = this.port.subscribe(BATCH_DESTINATION, headers, (body) => {
        for (const entry of reader.batch(body)) {
          const member = group.members.get(entry.symbol);
          const value = entry.value as unknown as Tick;
          if (member) this.port.deliver(member, { value, position: entry.position, arrival: entry.arrival });
        }
      });
      group.live = { stomp, id, symbols };
    } else this.#groups.delete(key);
  }
}
