/**
 * What the browser test pages of the float32 GPU kernels (webgl, webgpu) share: switching to
 * the backend, running a case through the op and `tf.grads`, and a check: their knots are
 * float32, so on grids far from the origin the error grows with `|start| / step`. The bound is
 * the one the webgl README derives; both packages' READMEs state it.
 */
import * as tf from '@tensorflow/tfjs-core';
import {linearSpline} from '@deepspline/core';
import {linearSplineForwardImpl, linearSplineGradImpl} from '@deepspline/core/internal';
import {normal, rng} from './prng.js';
import type {SplineCase} from './reference.js';

/** Sets the backend `name` (e.g. `'webgl'`); whether it is the backend now. */
export async function useBackend(name: string): Promise<boolean> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  return ok && tf.getBackend() === name;
}

/**
 * `x` of a case as a tensor on the current backend; with `computed`, as the output of a matMul
 * by the identity (reshaped), so that the kernels read what another GPU program wrote (on
 * webgl a packed texture of another shape) instead of data uploaded from JavaScript.
 */
export function caseInput(k: SplineCase, computed: boolean): tf.Tensor {
  const x = tf.tensor(k.x, k.xShape, 'float32');
  if (!computed) return x;
  const ch = k.xShape[k.xShape.length - 1];
  const y = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(x, [-1, ch]), tf.eye(ch)), k.xShape));
  x.dispose();
  return y;
}

/**
 * Runs a case on the current backend through the op and `tf.grads`, with `x` the case's input
 * as a tensor (see {@link caseInput}; disposed here); returns y, dx, dc as arrays.
 */
export async function runCase(k: SplineCase, x: tf.Tensor): Promise<{y: Float32Array, dx: Float32Array, dc: Float32Array}> {
  const c = tf.tensor2d(k.c, [k.C, k.K]);
  const dy = tf.tensor(k.dy, k.xShape, 'float32');
  const grid = {start: k.start, step: k.step};
  const y = linearSpline(x, c, grid);
  const [dx, dc] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(linearSpline(a, b, grid), dy)))([x, c]);
  const out = {
    y: (await y.data()) as Float32Array,
    dx: (await dx.data()) as Float32Array,
    dc: (await dc.data()) as Float32Array,
  };
  tf.dispose([x, c, dy, y, dx, dc]);
  return out;
}

/** The cpu kernel's (float64 arithmetic) y, dx and dc of a case. */
export function cpuCase(k: SplineCase): {y: Float32Array, dx: Float32Array, dc: Float32Array} {
  const y = linearSplineForwardImpl(k.x, k.c, k.C, k.K, k.start, k.step);
  return {y, ...linearSplineGradImpl(k.dy, k.x, k.c, k.C, k.K, k.start, k.step)};
}

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
