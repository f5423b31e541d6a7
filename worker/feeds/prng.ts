/** Deterministic randomness for the simulator: the same key always gives the same draw. */

/** 32-bit FNV-1a followed by a murmur3 finalizer: cheap, well mixed, stable across runtimes. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform draw in (0, 1) for `key`. */
export function uniform(key: string): number {
  return (hash32(key) + 0.5) / 4294967296;
}

/** A standard normal draw for `key` (Box-Muller over two independent uniforms). */
export function normal(key: string): number {
  const u1 = uniform(`${key}#u1`);
  const u2 = uniform(`${key}#u2`);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
