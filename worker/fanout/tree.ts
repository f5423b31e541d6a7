/**
 * The shape of a fan-out: the root (a symbol's source, or a feed round's scheduler)
 * delivers to at most `degree` children; with more hubs than that, relays are put in
 * between, level by level, so no object makes more than `degree` deliveries per tick at
 * any size. A hub node may name the streams it takes (`keys`: a feed round carries many
 * symbols and each hub gets only those it holds); without, it takes every frame. Pure.
 */
export type HubNode = { hub: string; keys?: string[] };
export type FanoutNode = HubNode | { relay: string; children: FanoutNode[] };

export function nodeName(node: FanoutNode): string {
  return "hub" in node ? node.hub : node.relay;
}

/**
 * The root's children for `hubs` (sorted, so the same set gives the same tree). Relays
 * are named by the root (`name`: a symbol, or `round:feed:0`), level (1 = just above the
 * hubs) and index.
 */
export function buildFanoutTree(name: string, hubs: readonly (string | HubNode)[], degree: number): FanoutNode[] {
  if (degree < 2) throw new Error("fan-out degree must be at least 2");
  let level: FanoutNode[] = hubs
    .map((h) => (typeof h === "string" ? { hub: h } : h))
    .sort((a, b) => (a.hub < b.hub ? -1 : a.hub > b.hub ? 1 : 0));
  for (let depth = 1; level.length > degree; depth++) {
    const groups = Math.ceil(level.length / degree);
    const next: FanoutNode[] = [];
    for (let i = 0; i < groups; i++) {
      // Even split: every group gets floor or ceil of n/groups, never more than `degree`.
      const children = level.slice(
        Math.floor((i * level.length) / groups),
        Math.floor(((i + 1) * level.length) / groups),
      );
      next.push({ relay: `relay:${name}:${depth}:${i}`, children });
    }
    level = next;
  }
  return level;
}

/** Levels below the source (1 = hubs directly) and relays in the tree, for logs and plans. */
export function treeShape(nodes: readonly FanoutNode[]): { depth: number; relays: number; hubs: number } {
  let depth = 0;
  let relays = 0;
  let hubs = 0;
  const walk = (list: readonly FanoutNode[], d: number) => {
    for (const n of list) {
      depth = Math.max(depth, d);
      if ("hub" in n) hubs++;
      else {
        relays++;
        walk(n.children, d + 1);
      }
    }
  };
  walk(nodes, 1);
  return { depth, relays, hubs };
}
