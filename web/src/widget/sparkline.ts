/**
 * A sparkline in a 100×28 box: the points of its polyline for `values` and, when given, the
 * height of a `reference` line (the previous close), both on one scale that holds them all.
 */
export function sparkline(values: number[], reference?: number): { points: string; ref?: string } {
  if (values.length < 2) return { points: "" };
  const all = reference === undefined ? values : [...values, reference];
  const min = Math.min(...all);
  const max = Math.max(...all);
  const span = max - min || 1;
  const y = (v: number) => (26 - ((v - min) / span) * 24).toFixed(1);
  const points = values.map((v, i) => `${((i / (values.length - 1)) * 100).toFixed(1)},${y(v)}`).join(" ");
  return reference === undefined ? { points } : { points, ref: y(reference) };
}
