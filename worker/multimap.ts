/** The value kept under `key`, made by `make` and kept on first use. */
export function entryOf<K, V>(
  map: { get(key: K): V | undefined; set(key: K, value: V): unknown },
  key: K,
  make: () => V,
): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Adds `value` to the list kept under `key` (grouping without Map.groupBy, which Node 20 lacks for the unit tests). */
export function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  entryOf(map, key, () => []).push(value);
}
