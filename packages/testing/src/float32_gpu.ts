/**
 * A check shared by the float32 GPU kernels (webgl, webgpu): their knots are float32, so on
 * grids far from the origin the error grows with `|start| / step`. The bound is the one the
 * webgl README derives; both packages' READMEs state it.
 */
import {linearSplineForwardImpl, linearSplineGradImpl} from '@deepspline/core/internal';
import {normal, rng} from './prng.js';
import type {SplineCase} from './reference.js';

/** What {@link farFromOrigin} measures on one grid. */
export interface FarFromOriginResult {
  /** The first knot. */
  start: number;
  /** The knot spacing. */
  step: number;
  /** `|start| / step`. */
  startOverStep: number;
  /** Largest `y` error over the README's bound (`<= 1`: within it). */
  errOverBound: number;
  /** Largest `y` error over `D`, the largest coefficient difference near the segment. */
  errOverD: number;
  /** Largest `y` error over `max(|y|, 1)` (the parity tests' measure). */
  errOverMaxAbsY1: number;
  /** Largest coefficient-gradient error over `sum |dy|`. */
  dcErrOverSumAbsDy: number;
  /** The README's knot term of the coefficient gradient, `2u (2 |start| / step + 3 (K - 2))`. */
  dcKnotTerm: number;
}

/**
 * Forward values and the coefficient gradient on ten grids far from the origin (`|start| /
 * step` up to 3e6; the last two binary-exact), against the cpu kernel, with the bound
 * `2u |y| + u (9 (|f| + 1) + 6 |start| / step + 9 k) D` (`u = 2^-24`, `k` and `f` the cpu's
 * segment and coordinate, `D` the largest `|c[j+1] - c[j]|` of that segment and its
 * neighbours). `evaluate` runs the kernels (`dy` of ones) and returns `y` and `dc`.
 */
export async function farFromOrigin(seed: number,
    evaluate: (k: SplineCase) => Promise<{y: Float32Array, dc: Float32Array}>): Promise<FarFromOriginResult[]> {
  const r = rng(seed);
  const u = 2 ** -24;
  const K = 21;
  const results: FarFromOriginResult[] = [];
  for (const [start, step] of [[-1, 0.1], [-10, 0.1], [-100.3, 0.1], [1234.5, 0.1],
    [-1e4, 0.7], [3e4, 0.03], [-2e6, 1.3], [1e6, 1 / 3], [1e5, 0.5], [-3e6, 0.25]]) {
    const n = 3000;
    const x = new Float32Array(n);
    for (let i = 0; i < n; ++i) {
      const p = r();
      const j = Math.floor(r() * K);
      // inside, a little outside, and next to the (float64) knots, where segments may differ
      x[i] = p < 0.6 ? start + (K - 1) * step * (1.2 * r() - 0.1) :
        start + j * step * (1 + (p < 0.8 ? 0 : 1e-6 * (2 * r() - 1)));
    }
    const c = new Float32Array(K).map(() => normal(r));
    const k: SplineCase = {xShape: [n], C: 1, K, start, step, x, c, dy: new Float32Array(n).fill(1)};
    const got = await evaluate(k);
    const y = linearSplineForwardImpl(x, c, 1, K, start, step);
    let ratio = 0;
    let overD = 0;
    let rel = 0;
    for (let i = 0; i < n; ++i) {
      const uu = (x[i] - start) / step;
      const seg = uu >= K - 2 ? K - 2 : (uu >= 0 ? Math.floor(uu) : 0);
      const f = uu - seg;
      let D = 0;
      for (let j = Math.max(seg - 1, 0); j <= Math.min(seg + 1, K - 2); ++j) {
        D = Math.max(D, Math.abs(c[j + 1] - c[j]));
      }
      const err = Math.abs(got.y[i] - y[i]);
      const bound = 2 * u * Math.abs(y[i]) +
        u * (9 * (Math.abs(f) + 1) + 6 * Math.abs(start) / step + 9 * seg) * D;
      ratio = Math.max(ratio, err / bound);
      overD = Math.max(overD, err / D);
      rel = Math.max(rel, err / Math.max(Math.abs(y[i]), 1));
    }
    // dc: the same knot error in g = (x - t_k) dy / step; sum |dy| = n (dy = 1)
    const {dc} = linearSplineGradImpl(k.dy, x, c, 1, K, start, step);
    let dcErr = 0;
    for (let j = 0; j < K; ++j) dcErr = Math.max(dcErr, Math.abs(got.dc[j] - dc[j]) / n);
    results.push({start, step, startOverStep: Math.abs(start) / step, errOverBound: ratio,
      errOverD: overD, errOverMaxAbsY1: rel, dcErrOverSumAbsDy: dcErr,
      dcKnotTerm: 2 * u * (2 * Math.abs(start) / step + 3 * (K - 2))});
  }
  return results;
}

/**
 * Throws unless every grid is within the bound (y) and the knot term plus `tolerance` (dc),
 * the binary-exact grids keep `tolerance` at any offset, and some other grid does not (the
 * limit the READMEs state is real).
 */
export function checkFarFromOrigin(results: FarFromOriginResult[], tolerance: number): void {
  if (results.length !== 10) throw new Error(`expected 10 grids, got ${results.length}`);
  for (const r of results) {
    if (!(r.errOverBound <= 1) || !(r.dcErrOverSumAbsDy <= r.dcKnotTerm + tolerance)) {
      throw new Error(`outside the bound: ${JSON.stringify(r)}`);
    }
  }
  for (const r of results.slice(-2)) {
    if (!(r.errOverMaxAbsY1 <= tolerance)) throw new Error(`binary-exact grid: ${JSON.stringify(r)}`);
  }
  if (!(Math.max(...results.map((r) => r.errOverMaxAbsY1)) > 1e-3)) {
    throw new Error('no grid shows the float32-knot error the READMEs state');
  }
}
