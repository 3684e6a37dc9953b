/**
 * The one seeded PRNG of the test suites, so that every random test replays: mulberry32, the
 * generator of the examples (`examples/shared/prng.mjs`, one copy for both), and samplers on it.
 */
import {mulberry32} from '../../../examples/shared/prng.mjs';

/** A uniform `[0, 1)` generator seeded with `seed` (mulberry32). */
export const rng: (seed: number) => () => number = mulberry32;

/** A standard normal sample (Box-Muller) from `r`. */
export function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** An integer uniform in `[lo, hi]`. */
export function integer(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** `n` float32 values uniform in `[lo, hi)`. */
export function uniformArray(n: number, lo: number, hi: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; ++i) a[i] = lo + (hi - lo) * r();
  return a;
}
