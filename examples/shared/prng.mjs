/**
 * A small seeded pseudo-random generator (mulberry32) so that the datasets, the shuffling and
 * every initializer seed are reproducible from one `--seed`.
 */

/**
 * Returns a function producing uniform floats in [0, 1) from a 32-bit integer seed.
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A deterministic derived seed for a named purpose ("train", "init:dense_1", ...): FNV-1a of
 * the name mixed with the base seed. Different names give independent-looking streams.
 * @param {number} seed
 * @param {string} name
 * @returns {number}
 */
export function deriveSeed(seed, name) {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; ++i) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A seeded Fisher-Yates permutation of 0..n-1.
 * @param {number} n
 * @param {() => number} rand
 * @returns {Int32Array}
 */
export function permutation(n, rand) {
  const p = new Int32Array(n);
  for (let i = 0; i < n; ++i) p[i] = i;
  for (let i = n - 1; i > 0; --i) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}
