/** A uniform `[0, 1)` generator seeded with the 32-bit integer `seed` (mulberry32). */
export function mulberry32(seed: number): () => number;
/** A deterministic seed derived from `seed` for a named purpose (FNV-1a of the name mixed with it). */
export function deriveSeed(seed: number, name: string): number;
/** A seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, rand: () => number): Int32Array;
