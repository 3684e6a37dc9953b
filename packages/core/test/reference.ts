/**
 * An independent float64 reference of packages/core/README.md, "Semantics", written from
 * its formulas (u, k = clamp(floor(u)), f = u - k, y = c[k] + f (c[k+1] - c[k])) and not
 * from the kernels' code. Tests hold every implementation to it.
 */

/** A small seeded PRNG (mulberry32) so that every random test is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Spline {
  c: ArrayLike<number>;   // [C * K] row-major
  C: number;
  K: number;
  start: number;
  step: number;
}

function segment(u: number, K: number): number {
  return Math.min(Math.max(Math.floor(u), 0), K - 2);
}

/** y of README "Semantics" (the evaluation rule) for value x in channel ch (finite x). */
export function refValue(s: Spline, x: number, ch: number): number {
  const {c, K, start, step} = s;
  const row = s.C === 1 ? 0 : ch;
  const u = (x - start) / step;
  const k = segment(u, K);
  const f = u - k;
  return c[row * K + k] + f * (c[row * K + k + 1] - c[row * K + k]);
}

/** dy/dx of README "Semantics" (the gradients). */
export function refSlope(s: Spline, x: number, ch: number): number {
  const {c, K, start, step} = s;
  const row = s.C === 1 ? 0 : ch;
  const k = segment((x - start) / step, K);
  return (c[row * K + k + 1] - c[row * K + k]) / step;
}

/** Forward over a flat x whose last axis has `channels` entries. */
export function refForward(s: Spline, x: ArrayLike<number>, channels: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; ++i) y[i] = refValue(s, x[i], i % channels);
  return y;
}

/** dx and dc of README "Semantics" (the gradients) for upstream dy. */
export function refBackward(s: Spline, x: ArrayLike<number>, dy: ArrayLike<number>,
    channels: number): {dx: Float64Array, dc: Float64Array, scale: Float64Array} {
  const {K, start, step} = s;
  const dx = new Float64Array(x.length);
  const dc = new Float64Array(s.C * K);
  const scale = new Float64Array(s.C * K);  // sum of |contributions|, for tolerances
  for (let i = 0; i < x.length; ++i) {
    const ch = i % channels;
    const row = s.C === 1 ? 0 : ch;
    dx[i] = refSlope(s, x[i], ch) * dy[i];
    const u = (x[i] - start) / step;
    const k = segment(u, K);
    const f = u - k;
    dc[row * K + k] += (1 - f) * dy[i];
    dc[row * K + k + 1] += f * dy[i];
    scale[row * K + k] += Math.abs((1 - f) * dy[i]);
    scale[row * K + k + 1] += Math.abs(f * dy[i]);
  }
  return {dx, dc, scale};
}

/** Largest |a - b| / (atol + rtol |b|) over two arrays (<= 1 means within tolerance). */
export function worst(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number):
    {ratio: number, index: number} {
  let ratio = 0;
  let index = -1;
  for (let i = 0; i < b.length; ++i) {
    const r = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(r <= ratio)) { ratio = r; index = i; }
  }
  return {ratio, index};
}
