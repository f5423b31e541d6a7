/**
 * The name an object was addressed by (`idFromName`). The runtime may wake an object
 * without it (an alarm after a restart: `ctx.id.name` is then undefined, as Cloudflare
 * documents), so the first request that carries it stores it and later wakes read it back.
 * Call inside `blockConcurrencyWhile`.
 */
export async function ownName(ctx: DurableObjectState, form: string): Promise<string> {
  const given = ctx.id.name;
  const stored = await ctx.storage.get<string>("ownName");
  if (given) {
    if (stored !== given) await ctx.storage.put("ownName", given);
    return given;
  }
  if (stored) return stored;
  throw new Error(`a Durable Object must first be addressed by name (${form})`);
}
