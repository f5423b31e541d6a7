import { hash32 } from "../hash";

/**
 * Where things live. Pure: names and hashes only, no bindings.
 *  - Connection hubs are named `hub:{region}:{shard}`; the region is a Durable Object
 *    location hint derived from the request's `cf` data, so a viewer's socket lives near
 *    the viewer.
 *  - Symbols are spread over feed-scheduler shards by hash.
 */

/** Durable Object location hints (the regions hubs are placed in). */
export type Region = "wnam" | "enam" | "sam" | "weur" | "eeur" | "apac" | "oc" | "afr" | "me";

/** Every region a hub may be placed in (GET /metrics asks the hubs of each). */
export const REGIONS: readonly Region[] = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"];

/** The parts of `request.cf` placement looks at. */
export interface RequestGeo {
  continent?: unknown;
  longitude?: unknown;
  country?: unknown;
}

const MIDDLE_EAST = new Set(["AE", "BH", "IL", "IQ", "IR", "JO", "KW", "LB", "OM", "QA", "SA", "SY", "TR", "YE", "PS"]);

/** The region nearest the client; `enam` when the runtime gives no location (local dev). */
export function regionOf(geo: RequestGeo | undefined): Region {
  const continent = typeof geo?.continent === "string" ? geo.continent : "";
  const longitude = Number(geo?.longitude);
  switch (continent) {
    case "NA":
      return Number.isFinite(longitude) && longitude < -100 ? "wnam" : "enam";
    case "SA":
      return "sam";
    case "EU":
      return Number.isFinite(longitude) && longitude > 20 ? "eeur" : "weur";
    case "AF":
      return "afr";
    case "OC":
      return "oc";
    case "AS":
      return typeof geo?.country === "string" && MIDDLE_EAST.has(geo.country) ? "me" : "apac";
    default:
      return "enam";
  }
}

export function hubName(region: Region, shard: number): string {
  return `hub:${region}:${shard}`;
}

/** The region a hub name was made for (its location hint). */
export function regionOfHub(name: string): Region | undefined {
  const region = /^hub:([a-z]+):\d+$/.exec(name)?.[1];
  return region as Region | undefined;
}

export function shardOf(key: string, shards: number): number {
  return hash32(key) % shards;
}

/**
 * The order in which a connection tries the hubs of its region: from `first`, then
 * each next shard, so a full hub sends it on to the next one.
 */
export function probeOrder(first: number, shards: number): number[] {
  return Array.from({ length: shards }, (_, i) => (first + i) % shards);
}
