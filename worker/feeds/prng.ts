import { hash32 } from "../hash";

/** Deterministic randomness for the simulator: the same key always gives the same draw. */

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
