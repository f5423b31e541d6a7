/**
 * Capacity and cost plan for a deployment: objects at each level of the fan-out, calls
 * and messages per tick per object, the Cloudflare limit each level stays under, and the
 * monthly bill at list prices. Every figure comes from the formulas below and from
 * per-message costs measured by `npm run bench` (pass your own with flags).
 *
 *   npm run plan -- --viewers 1000000 --symbols 500 --per-viewer 20
 *   npm run plan -- --upstream 0          # polled only: no upstream stream objects
 */
import { parseArgs } from "node:util";
import { buildFanoutTree, treeShape } from "../worker/fanout/tree";

const { values } = parseArgs({
  options: {
    viewers: { type: "string", default: "1000000" },
    symbols: { type: "string", default: "500" },
    "per-viewer": { type: "string", default: "20" },
    "tick-ms": { type: "string", default: "1000" },
    regions: { type: "string", default: "6" },
    "hub-connections": { type: "string", default: "10000" },
    degree: { type: "string", default: "32" },
    "scheduler-shards": { type: "string", default: "1" },
    // Measured on a 2-core machine (npm run bench, bare workerd, watchlist): server CPU per MESSAGE frame delivered.
    "us-per-frame": { type: "string", default: "5" },
    // Share of one core a hub may use for fan-out (headroom for subscribes, bursts and GC).
    "hub-cpu": { type: "string", default: "0.5" },
    // Streaming: upstream connections (UpstreamStream objects: one per deployment, as providers allow one per key; 0 = polled only), and messages each receives per second.
    upstream: { type: "string" },
    "upstream-msgs": { type: "string", default: "100" },
  },
});
const num = (name: keyof typeof values) => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};

const V = num("viewers");
const S = num("symbols");
const K = Math.min(num("per-viewer"), S);
const T = num("tick-ms") / 1000;
const R = num("regions");
const D = num("degree");
const G = num("scheduler-shards");
const usPerFrame = num("us-per-frame");
const U = values.upstream === undefined ? 1 : Number(values.upstream);
if (!Number.isInteger(U) || U < 0) throw new Error("--upstream must be a whole number (0: polled only)");
const upstreamMsgs = num("upstream-msgs");

// Cloudflare list prices and limits (Workers Paid; developers.cloudflare.com, durable-objects/platform/pricing and limits).
const PRICE = {
  requestsIncluded: 1e6,
  perMillionRequests: 0.15,
  gbSecondsIncluded: 400_000,
  perMillionGbSeconds: 12.5,
  objectGb: 0.128, // duration is billed at 128 MB per active object
  rowsWrittenIncluded: 50e6,
  perMillionRowsWritten: 1.0,
  base: 5,
};
const LIMIT = { socketsPerObject: 32_768, requestsPerSecond: 1_000, cpuMsPerEvent: 30_000 };
const SECONDS_PER_MONTH = 30 * 24 * 3600;
const ticksPerMonth = SECONDS_PER_MONTH / T;

// Hubs: as many connections as CPU allows (every connection gets K frames per tick), capped by HUB_MAX_CONNECTIONS.
const cpuBoundConnections = Math.floor((num("hub-cpu") * 1e6 * T) / (K * usPerFrame));
const perHub = Math.max(1, Math.min(num("hub-connections"), cpuBoundConnections, LIMIT.socketsPerObject));
const hubsPerRegion = Math.ceil(V / R / perHub);
const H = hubsPerRegion * R;
const viewersPerHub = V / H;

// A symbol is held by every hub with at least one of its subscribers (uniform popularity).
const subsPerSymbol = (V * K) / S;
const holdersPerSymbol = Math.round(H * (1 - (1 - K / S) ** viewersPerHub));
const symbolsPerHub = Math.min(S, S * (1 - (1 - K / S) ** viewersPerHub));
// A scheduler shard's round goes to every hub holding any of its symbols, through relays past the degree.
const symbolsPerShard = S / G;
const hubsPerShard = Math.round(H * (1 - (1 - holdersPerSymbol / H) ** symbolsPerShard));
const round = treeShape(
  buildFanoutTree(
    "round",
    Array.from({ length: hubsPerShard }, (_, i) => `h${i}`),
    D,
  ),
);
// The scheduler's own deliveries per round: the top of the round's tree, at most the degree.
const schedulerDeliveries = Math.min(round.hubs + round.relays, D);

// Per round: scheduler → each source (1 ingest per symbol), then per shard one delivery per hub and relay.
const callsPerRound = S + G * (round.hubs + round.relays);
// Streaming: each upstream object holds an outbound WebSocket, so it never hibernates while
// symbols are watched; what it receives is billed like incoming WebSocket messages (20 count as
// one request: the conservative reading). Its windows' ingests and deliveries replace the rounds'.
const upstreamRequests = (U * upstreamMsgs * SECONDS_PER_MONTH) / 20;
const requestsPerMonth = callsPerRound * ticksPerMonth + upstreamRequests;
// Sources, schedulers, round relays, hubs that hear of every round and upstream objects never sit idle long enough to hibernate.
const activeObjects = S + G * (1 + round.relays) + H + U;
const gbSeconds = activeObjects * PRICE.objectGb * SECONDS_PER_MONTH;
// Each tick: one row into the history ring in the source's SQLite (the ring is trimmed every 32 ticks).
const rowsWritten = S * (1 + 1 / 32) * ticksPerMonth;
const cost = {
  requests: (Math.max(0, requestsPerMonth - PRICE.requestsIncluded) / 1e6) * PRICE.perMillionRequests,
  duration: (Math.max(0, gbSeconds - PRICE.gbSecondsIncluded) / 1e6) * PRICE.perMillionGbSeconds,
  storage: (Math.max(0, rowsWritten - PRICE.rowsWrittenIncluded) / 1e6) * PRICE.perMillionRowsWritten,
};
const total = PRICE.base + cost.requests + cost.duration + cost.storage;

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ok = (value: number, limit: number) =>
  value <= limit ? `ok (${fmt((value / limit) * 100, 1)}% of ${fmt(limit)})` : `OVER (${fmt(value)} > ${fmt(limit)})`;

const hubFramesPerSecond = (viewersPerHub * K) / T;
const hubCpuShare = (hubFramesPerSecond * usPerFrame) / 1e6;
console.log(
  `Plan: ${fmt(V)} viewers × ${K} of ${fmt(S)} symbols, a tick per symbol every ${fmt(T * 1000)} ms, ${R} regions, fan-out degree ${D}`,
);
console.log(
  `Measured cost: ${usPerFrame} µs of CPU per MESSAGE frame at a hub (a round's frames share one send per connection)\n`,
);
console.log("| level | objects | per object, each tick round | stays under |");
console.log("|---|---|---|---|");
console.log(
  `| feed schedulers | ${fmt(G)} (--scheduler-shards) | ${fmt(symbolsPerShard)} ingest calls, then ${fmt(schedulerDeliveries)} round deliveries | ~1,000 req/s per object: ${ok((symbolsPerShard + schedulerDeliveries) / T, LIMIT.requestsPerSecond)} → raise SCHEDULER_SHARDS past that |`,
);
console.log(`| symbol sources | ${fmt(S)} | 1 ingest in (the tick is stored and handed back) | — |`);
console.log(
  `| round relays | ${fmt(G * round.relays)} (${fmt(round.relays)} per shard, ${round.depth - 1} level(s)) | 1 call in, ≤ ${D} calls out | ${D} calls per round by construction |`,
);
console.log(
  `| connection hubs | ${fmt(H)} (${fmt(hubsPerRegion)} per region) | ${fmt(G)} round deliver${G === 1 ? "y" : "ies"} in (${fmt(symbolsPerHub)} symbols), ${fmt(viewersPerHub)} WebSocket sends out, ${fmt(viewersPerHub * K)} frames | sockets ${ok(viewersPerHub, LIMIT.socketsPerObject)}; CPU ${fmt(hubCpuShare * 100, 0)}% of a core (capacity set by --hub-cpu) |`,
);
console.log("");
console.log(
  `Per symbol: ${fmt(subsPerSymbol)} subscriptions on ${fmt(holdersPerSymbol)} hubs. Per round and shard: one delivery to each of ${fmt(hubsPerShard)} hubs, tree depth ${round.depth} (scheduler → ${round.depth > 1 ? "relays → " : ""}hubs).`,
);
console.log(
  `Per hub: ${fmt(viewersPerHub)} connections (CPU allows ${fmt(cpuBoundConnections)}, HUB_MAX_CONNECTIONS ${fmt(num("hub-connections"))}).`,
);
console.log("");
console.log("| monthly, list prices | quantity | USD |");
console.log("|---|---|---|");
console.log(`| Workers Paid base | | ${fmt(PRICE.base, 2)} |`);
console.log(`| Durable Object requests (RPC calls) | ${fmt(requestsPerMonth / 1e6, 1)} M | ${fmt(cost.requests, 2)} |`);
console.log(
  `| Durable Object duration (${fmt(activeObjects)} objects awake) | ${fmt(gbSeconds / 1e6, 1)} M GB-s | ${fmt(cost.duration, 2)} |`,
);
console.log(`| SQLite rows written | ${fmt(rowsWritten / 1e6, 1)} M | ${fmt(cost.storage, 2)} |`);
console.log(`| total | | **${fmt(total, 2)}** (${fmt((total / V) * 1000, 2)} per 1,000 viewers) |`);
if (U > 0) {
  // What the upstream objects alone add, at list prices past the included amounts.
  const upstreamDuration = ((U * PRICE.objectGb * SECONDS_PER_MONTH) / 1e6) * PRICE.perMillionGbSeconds;
  const upstreamMessages = (upstreamRequests / 1e6) * PRICE.perMillionRequests;
  console.log(
    `\nStreaming: ${U} upstream object${U === 1 ? "" : "s"} (--upstream, one per deployment) always awake while symbols are watched: ` +
      `${fmt((U * PRICE.objectGb * SECONDS_PER_MONTH) / 1e6, 2)} M GB-s (USD ${fmt(upstreamDuration, 2)}) and ${fmt(upstreamRequests / 1e6, 1)} M requests for ` +
      `${fmt(upstreamMsgs)} messages/s each (--upstream-msgs; USD ${fmt(upstreamMessages, 2)}): about USD ${fmt(upstreamDuration + upstreamMessages, 2)} a month, included above. Idle (no viewers): closed, nothing.`,
  );
}
console.log("\nOutgoing WebSocket messages are free; client heart-beats are answered by the runtime's auto-response.");
