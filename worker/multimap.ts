/** Adds `value` to the list kept under `key` (grouping without Map.groupBy, which Node 20 lacks for the unit tests). */
export function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
