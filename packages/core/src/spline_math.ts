/**
 * Derived quantities of spline activations, on coefficient tensors `[C, K]` (this package's
 * README, "Semantics"). Every function returns new tensors; the caller disposes them.
 */
import {ArgumentError, NonFiniteError} from './errors.js';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, Tensor1D, Tensor2D} from '@tensorflow/tfjs-core';
import {linearSpline} from './op.js';
import type {LinearSplineGrid} from './op.js';
import {checkFinite, checkInteger, checkNonNegative, checkPositive, describe} from './validate.js';

function check2d(c: Tensor, context: string): [number, number] {
  if (!(c instanceof tf.Tensor) || c.rank !== 2 || c.dtype !== 'float32' || c.shape[1]! < 3) {
    const what = c instanceof tf.Tensor ? `a ${c.dtype} tensor of shape [${c.shape}]` : describe(c);
    throw new ArgumentError(`${context}: expected float32 coefficients of shape [C, K] with K >= 3, got ${what}`);
  }
  return c.shape as [number, number];
}

function checkGrid(grid: LinearSplineGrid, context: string): void {
  if (grid == null || typeof grid !== 'object') {
    throw new ArgumentError(`${context}: expected grid {start, step}, got ${describe(grid)}`);
  }
  checkFinite('start', grid.start, context);
  checkPositive('step', grid.step, context);
}

/** The knots `start + k * step`, `k = 0 .. K-1`, as a float32 `[K]` tensor. */
export function splineKnots(size: number, grid: LinearSplineGrid): Tensor1D {
  checkInteger('size', size, 3, 'splineKnots');
  checkGrid(grid, 'splineKnots');
  const v = new Float32Array(size);
  for (let k = 0; k < size; ++k) v[k] = grid.start + k * grid.step;
  return tf.tensor1d(v, 'float32');
}

/** The float32 values of checked coefficients (read once: the math below runs in float64). */
function valuesOf(c: Tensor): Float32Array {
  return c.dataSync() as Float32Array;
}

let onDeviceOverride: boolean | null = null;

/**
 * Whether {@link reluSlopes}, {@link tv2} (so {@link bv2}) and {@link activeKnots} compute on
 * the device in float32 instead of reading the coefficients back for float64 arithmetic: on
 * the webgpu backend, where a synchronous read stalls the GPU (tfjs warns) or, under headless
 * SwiftShader, fails. The README's Semantics states the float32 error.
 */
export function splineMathOnDevice(): boolean {
  return onDeviceOverride ?? tf.getBackend() === 'webgpu';
}

/**
 * Forces the device path of the derived quantities on (`true`) or off (`false`) on every
 * backend, or restores the default (`null`: on for webgpu only). For tests and benchmarks.
 */
export function setSplineMathOnDevice(onDevice: boolean | null): void {
  if (onDevice !== null && typeof onDevice !== 'boolean') {
    throw new ArgumentError(`setSplineMathOnDevice: expected true, false or null, got ${describe(onDevice)}`);
  }
  onDeviceOverride = onDevice;
}

/** The ReLU slopes in float32 tensor arithmetic, `((c[k-1] - 2 c[k]) + c[k+1]) / T`: no read. */
function slopesOnDevice(c: Tensor, C: number, K: number, step: number): Tensor2D {
  return tf.tidy(() => {
    const at = (offset: number) => tf.slice(c, [0, offset], [C, K - 2]);
    return tf.div(tf.add(tf.sub(at(0), tf.mul(at(1), 2)), at(2)), step) as Tensor2D;
  });
}

/**
 * ReLU slopes in float64 from float32 coefficients `v` (`[C, K]` row-major): `[C, K-2]`
 * row-major. The second difference of three float32 numbers is (nearly always) exact in
 * float64, so the only rounding that matters is the final one to float32.
 */
function slopes64(v: Float32Array, C: number, K: number, step: number): Float64Array {
  const a = new Float64Array(C * (K - 2));
  for (let r = 0; r < C; ++r) {
    for (let k = 1; k < K - 1; ++k) {
      const o = r * K + k;
      a[r * (K - 2) + k - 1] = ((v[o - 1] - 2 * v[o]) + v[o + 1]) / step;
    }
  }
  return a;
}

/**
 * The adjoint of `c -> a` (second differences over `step`): `g` `[C, K-2]` -> `[C, K]` with
 * `dc[j] = (g[j] - 2 g[j-1] + g[j-2]) / step` (out-of-range `g` taken as 0).
 */
function slopesAdjoint(g: Tensor, C: number, K: number, step: number): Tensor2D {
  return tf.tidy(() => {
    const p = tf.pad(g, [[0, 0], [2, 2]]);
    const at = (offset: number) => tf.slice(p, [0, offset], [C, K]);
    return tf.div(tf.add(tf.sub(at(2), tf.mul(at(1), 2)), at(0)), step) as Tensor2D;
  });
}

/**
 * ReLU slopes at the inner knots: `a_k = (c[k-1] - 2 c[k] + c[k+1]) / T`, `k = 1 .. K-2`,
 * so that `sigma(x) = b0 + b1 x + sum_k a_k ReLU(x - t_k)` on the grid. Shape `[C, K-2]`.
 * Computed in float64 from the float32 coefficients and rounded once (the README,
 * "Semantics"); differentiable in the coefficients.
 */
export function reluSlopes(coefficients: Tensor2D, step: number): Tensor2D {
  const [C, K] = check2d(coefficients, 'reluSlopes');
  checkPositive('step', step, 'reluSlopes');
  const f = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const value = splineMathOnDevice() ? slopesOnDevice(args[0] as Tensor, C, K, step) :
      tf.tensor2d(Float32Array.from(slopes64(valuesOf(args[0] as Tensor), C, K, step)), [C, K - 2], 'float32');
    return {
      value,
      gradFunc: (dy: Tensor) => slopesAdjoint(dy, C, K, step),
    };
  });
  return f(coefficients) as Tensor2D;
}

/**
 * Second-order total variation per spline: `TV2 = sum_k |a_k|`. Shape `[C]`. Computed in
 * float64 and rounded once; differentiable (the gradient of `|a_k|` is `sign(a_k)`, 0 at 0).
 */
export function tv2(coefficients: Tensor2D, step: number): Tensor1D {
  const [C, K] = check2d(coefficients, 'tv2');
  checkPositive('step', step, 'tv2');
  const f = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
    if (splineMathOnDevice()) {
      const a = slopesOnDevice(args[0] as Tensor, C, K, step);
      (args[1] as tf.GradSaveFunc)([a]);
      return {
        value: tf.sum(tf.abs(a), 1) as Tensor1D,
        gradFunc: (dy: Tensor, saved: Tensor[]) => tf.tidy(() =>
          slopesAdjoint(tf.mul(tf.reshape(dy, [C, 1]), tf.sign(saved[0]!)), C, K, step)),
      };
    }
    const a = slopes64(valuesOf(args[0] as Tensor), C, K, step);
    const tv = new Float32Array(C);
    for (let r = 0; r < C; ++r) {
      let sum = 0;
      for (let j = r * (K - 2); j < (r + 1) * (K - 2); ++j) sum += Math.abs(a[j]);
      tv[r] = sum;
    }
    return {
      value: tf.tensor1d(tv, 'float32'),
      gradFunc: (dy: Tensor) => tf.tidy(() => slopesAdjoint(
        tf.mul(tf.reshape(dy, [C, 1]), tf.tensor2d(Float32Array.from(a, Math.sign), [C, K - 2], 'float32')), C, K,
        step)),
    };
  });
  return f(coefficients) as Tensor1D;
}

/**
 * Second-order bounded variation as the reference defines it:
 * `BV2 = TV2 + |sigma(0)| + |sigma(1)|`. Shape `[C]`.
 */
export function bv2(coefficients: Tensor2D, grid: LinearSplineGrid): Tensor1D {
  const [C] = check2d(coefficients, 'bv2');
  checkGrid(grid, 'bv2');
  return tf.tidy(() => {
    const at = tf.concat([tf.zeros([1, C]), tf.ones([1, C])], 0);
    const values = linearSpline(at, coefficients, grid);
    return tf.add(tv2(coefficients, grid.step), tf.sum(tf.abs(values), 0)) as Tensor1D;
  });
}

/**
 * Exact Lipschitz constant of each spline over all of R: `max_k |c[k+1] - c[k]| / T`
 * (the end segments extend to infinity). Shape `[C]`.
 */
export function splineLipschitz(coefficients: Tensor2D, step: number): Tensor1D {
  const [C, K] = check2d(coefficients, 'splineLipschitz');
  checkPositive('step', step, 'splineLipschitz');
  return tf.tidy(() => {
    const d = tf.sub(tf.slice(coefficients, [0, 1], [C, K - 1]),
      tf.slice(coefficients, [0, 0], [C, K - 1]));
    return tf.div(tf.max(tf.abs(d), 1), step) as Tensor1D;
  });
}

/**
 * Number of active knots per spline: the `k` with `|a_k| > threshold`, `a_k` in float64 (the
 * value {@link reluSlopes} rounds). Int32 `[C]`.
 */
export function activeKnots(coefficients: Tensor2D, step: number, threshold = 0): Tensor1D {
  const [C, K] = check2d(coefficients, 'activeKnots');
  checkPositive('step', step, 'activeKnots');
  checkNonNegative('threshold', threshold, 'activeKnots');
  if (splineMathOnDevice()) {
    return tf.tidy(() => tf.sum(tf.cast(tf.greater(tf.abs(slopesOnDevice(coefficients, C, K, step)), threshold),
      'int32'), 1) as Tensor1D);
  }
  const a = slopes64(valuesOf(coefficients), C, K, step);
  const count = new Int32Array(C);
  for (let j = 0; j < a.length; ++j) if (Math.abs(a[j]) > threshold) ++count[Math.floor(j / (K - 2))];
  return tf.tensor1d(count, 'int32');
}

/**
 * Sparsification: sets every ReLU slope with `|a_k| <= threshold` to 0 and rebuilds the
 * coefficients from the sparsified slopes, keeping `c[0]` and `c[1]` (as the reference).
 * `threshold = 0` removes only exactly-zero slopes and returns the coefficients unchanged.
 *
 * The slopes and the rebuild are computed in float64 and the result rounded once to float32,
 * so that the removed slopes of the result are 0 up to that rounding: at most
 * `(h[k-1] + 2 h[k] + h[k+1]) / T`, `h` half a float32 ulp of the new coefficients. Not
 * differentiable (a projection, applied between training steps).
 */
export function sparsifyCoefficients(coefficients: Tensor2D, step: number, threshold: number):
    Tensor2D {
  const [C, K] = check2d(coefficients, 'sparsifyCoefficients');
  checkPositive('step', step, 'sparsifyCoefficients');
  checkNonNegative('threshold', threshold, 'sparsifyCoefficients');
  const v = valuesOf(coefficients);
  const a = slopes64(v, C, K, step);
  const out = new Float32Array(C * K);
  for (let r = 0; r < C; ++r) {
    const o = r * K;
    // Subtract the removed part instead of re-integrating the kept one: the correction e is 0
    // (and the coefficients come back bit for bit) until the first removed knot.
    let e = 0;
    let de = 0;
    out[o] = v[o];
    out[o + 1] = v[o + 1];
    for (let k = 1; k < K - 1; ++k) {
      if (Math.abs(a[r * (K - 2) + k - 1]) <= threshold) {
        de += (v[o + k - 1] - 2 * v[o + k]) + v[o + k + 1];
      }
      e += de;
      out[o + k + 1] = v[o + k + 1] - e;
    }
  }
  return tf.tensor2d(out, [C, K], 'float32');
}

/** Smallest magnitude a quantum is taken from (2^-60). */
const TINY = 2 ** -60;

/**
 * Per-row power-of-two quantum `q = 2^(e - 22)` and `1 / q`, with `2^e` the smallest power of
 * two >= `m` (`m` `[C, 1]` or a scalar, > 0): every integer multiple of `q` up to `2^24 q` is a
 * float32 number, so sums of such multiples bounded by `3 m` (`c[k-1] - 2 c[k]`, a cumulative
 * sum) are exact in float32 on every backend. `2^e` is checked against `m` (a float32 `log2`
 * may be one short).
 */
function quantum(m: Tensor): [Tensor, Tensor] {
  const x = tf.maximum(m, TINY);
  const guess = tf.ceil(tf.div(tf.log(x), Math.LN2));
  const e = tf.add(guess, tf.cast(tf.less(tf.pow(2, guess), x), 'float32'));
  return [tf.pow(2, tf.sub(e, 22)), tf.pow(2, tf.sub(22, e))];
}

/**
 * `x` rounded to the nearest integer multiple of the quantum `q` (`invq = 1 / q`), with the
 * gradient of the identity (the rounding moves values by at most `q / 2`).
 */
function toQuantum(x: Tensor, q: Tensor, invq: Tensor): Tensor {
  const f = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => ({
    value: tf.mul(tf.round(tf.mul(args[0] as Tensor, invq)), q),
    gradFunc: (dy: Tensor) => dy,
  }));
  return f(x);
}

/**
 * The proximal step of `threshold * sum_k |a_k|` (TV(2)) on every spline: each ReLU slope is
 * soft-thresholded, `a_k <- sign(a_k) max(|a_k| - threshold, 0)`, the linear part anchored at
 * `c[0]`, `c[1]` is kept (as {@link sparsifyCoefficients}), and the coefficients are rebuilt.
 *
 * Every slope that the threshold does not pass is then *exactly* 0 in the float32 result, on
 * every backend and in any evaluation order of `c[k-1] - 2 c[k] + c[k+1]`: the result's
 * coefficients are integer multiples of a per-spline power of two `q` (`2^-22` to `2^-21` of the
 * largest coefficient or first difference) built by exact float32 sums, so the second
 * difference at a removed knot is computed without rounding. The price is a change of each
 * coefficient by at most `K q / 2` (a few 1e-6 relative for the usual sizes). `threshold` is a
 * number >= 0 or a float32 `[C, K - 2]` tensor of per-knot thresholds (values >= 0, not
 * checked: they stay on the device), in slope units like `a_k`. Pure tensor operations (no read to the host: usable inside `fit` on webgpu);
 * not differentiable (a projection, applied between training steps).
 */
export function softThresholdSlopes(coefficients: Tensor2D, step: number, threshold: number | Tensor2D):
    Tensor2D {
  const [C, K] = check2d(coefficients, 'softThresholdSlopes');
  checkPositive('step', step, 'softThresholdSlopes');
  if (threshold instanceof tf.Tensor) {
    if (threshold.rank !== 2 || threshold.shape[0] !== C || threshold.shape[1] !== K - 2 ||
        threshold.dtype !== 'float32') {
      throw new ArgumentError(`softThresholdSlopes: expected a float32 threshold tensor of shape [${C}, ${K - 2}] ` +
        `(one per knot), got a ${threshold.dtype} tensor of shape [${threshold.shape}]`);
    }
  } else {
    checkNonNegative('threshold', threshold, 'softThresholdSlopes');
  }
  return tf.tidy(() => {
    const c = coefficients;
    const cols = (t: Tensor, from: number, n: number) => tf.slice(t, [0, from], [C, n]);
    const d = tf.sub(cols(c, 1, K - 1), cols(c, 0, K - 1));  // [C, K-1] first differences
    const D = tf.sub(cols(d, 1, K - 2), cols(d, 0, K - 2));  // [C, K-2] = T a
    const shrunk = tf.mul(tf.sign(D), tf.relu(tf.sub(tf.abs(D), tf.mul(threshold, step))));
    // Subtract the removed part (as sparsifyCoefficients): exact where nothing is removed.
    const zero = tf.zeros([C, 1]);
    const dCut = tf.concat([zero, tf.cumsum(tf.sub(D, shrunk), 1)], 1);
    const cNew = tf.sub(c, tf.concat([zero, tf.cumsum(dCut, 1)], 1));
    const dNew = tf.sub(d, dCut);
    const [q, invq] = quantum(tf.maximum(tf.max(tf.abs(cNew), 1, true), tf.max(tf.abs(dNew), 1, true)));
    const round = (t: Tensor) => toQuantum(t, q, invq);
    // Segment j starts a run of equal slopes unless knot j (between segments j-1, j) was
    // removed; every segment takes the rounded slope of its run's first segment.
    const index = tf.range(0, K - 1, 1, 'float32');
    const starts = tf.concat([tf.ones([C, 1], 'bool'), tf.notEqual(shrunk, 0)], 1);
    const startIndex = tf.where(starts, tf.broadcastTo(index, [C, K - 1]), tf.fill([C, K - 1], -1));
    const before = tf.lessEqual(tf.reshape(index, [1, K - 1]), tf.reshape(index, [K - 1, 1]));
    const runStart = tf.max(tf.where(before, tf.reshape(startIndex, [C, 1, K - 1]), -1), 2);
    const dq = tf.gather(round(dNew), tf.cast(runStart, 'int32'), 1, 1);
    const c0 = round(cols(cNew, 0, 1));
    return tf.concat([c0, tf.add(c0, tf.cumsum(dq, 1))], 1) as Tensor2D;
  });
}

/**
 * Slope clipping to `maxSlope` (makes every spline `maxSlope`-Lipschitz):
 * `d_k = (1 - delta / s) clamp((c[k+1] - c[k]) / T, -s, s)`, coefficients rebuilt by cumulative
 * sum, then shifted so that `mean(c)` per spline is unchanged. Differentiable (a slope at
 * exactly `s` still passes its gradient).
 *
 * Each spline's rebuilt coefficients are integer multiples of a power of two `q` (`2^-22` to
 * `2^-21` of `m = |mean(c)| + sum_k |d_k T|`, a bound on every result): each step `d_k T` and
 * the shift are rounded to the nearest multiple of `q`, so the cumulative sum and the shift are
 * exact in float32 on every backend. Hence the result's differences are exactly the rounded
 * steps, and where the input's ReLU slope is exactly 0 with exact differences (coefficients
 * from `softThresholdSlopes`), the result's is exactly 0 too: clipping adds no knot. Each
 * value moves by at most `K q / 2` from the float64 formula.
 *
 * The factor `1 - delta / s`, `delta = 2^-23 ((ceil(log2 K) + 3) M / T + 2 s)` with
 * `M = max |mean(c)| + (K - 1) T s >= m`, keeps every slope below `s` by a float32 margin
 * covering the roundings of the slope, of `d_k T` and to `q` (`q / 2T <= 2^-22 M / T`), so the
 * exact slopes of the float32 result are `<= s` (a few 1e-6 relative for the usual grids).
 */
export function clipSlopes(coefficients: Tensor2D, step: number, maxSlope: number): Tensor2D {
  const [C, K] = check2d(coefficients, 'clipSlopes');
  checkPositive('step', step, 'clipSlopes');
  checkNonNegative('maxSlope', maxSlope, 'clipSlopes');
  const roundings = Math.ceil(Math.log2(K)) + 3;
  return tf.tidy(() => {
    const diff = tf.sub(tf.slice(coefficients, [0, 1], [C, K - 1]),
      tf.slice(coefficients, [0, 0], [C, K - 1]));
    const bound = tf.add(tf.max(tf.abs(tf.mean(coefficients, 1))), (K - 1) * step * maxSlope);
    const margin = tf.mul(tf.add(tf.mul(bound, roundings / step), 2 * maxSlope), 2 ** -23);
    const slopes = tf.div(diff, step);
    // Scale the clamped slopes by (1 - delta / s) rather than clamp at s - delta: a slope at
    // exactly s (an 'abs' or 'relu' init with maxSlope 1) keeps its gradient.
    const shrink = maxSlope > 0 ? tf.relu(tf.sub(1, tf.div(margin, maxSlope))) : tf.scalar(0);
    const d = tf.mul(tf.clipByValue(slopes, -maxSlope, maxSlope), shrink);
    const dT = tf.mul(d, step);
    const [q, invq] = quantum(tf.add(tf.abs(tf.mean(coefficients, 1, true)), tf.sum(tf.abs(dT), 1, true)));
    const steps = toQuantum(dT, q, invq);
    const rebuilt = tf.concat([tf.zeros([C, 1]), tf.cumsum(steps, 1)], 1);
    const shift = toQuantum(tf.sub(tf.mean(coefficients, 1, true), tf.mean(rebuilt, 1, true)), q, invq);
    return tf.add(rebuilt, shift) as Tensor2D;
  });
}

/**
 * Coefficients `[channels, size]` whose spline interpolates `fn` at the knots. `fn` may take
 * the channel index as its second argument (e.g. different initial functions per channel).
 */
export function coefficientsFromFunction(fn: (x: number, channel: number) => number,
    size: number, grid: LinearSplineGrid, channels = 1): Tensor2D {
  if (typeof fn !== 'function') {
    throw new ArgumentError(`coefficientsFromFunction: expected a function (x: number) => number, got ${describe(fn)}`);
  }
  checkInteger('size', size, 3, 'coefficientsFromFunction');
  checkInteger('channels', channels, 1, 'coefficientsFromFunction');
  checkGrid(grid, 'coefficientsFromFunction');
  const v = new Float32Array(channels * size);
  for (let ch = 0; ch < channels; ++ch) {
    for (let k = 0; k < size; ++k) {
      const t = grid.start + k * grid.step;
      const y = fn(t, ch);
      if (typeof y !== 'number' || !Number.isFinite(y)) {
        throw new NonFiniteError(`coefficientsFromFunction: the function returned ${describe(y)} at ` +
          `x = ${t} (channel ${ch}); expected a finite number`);
      }
      v[ch * size + k] = y;
    }
  }
  return tf.tensor2d(v, [channels, size], 'float32');
}

/**
 * Samples every spline on `numPoints` equally spaced points over the grid widened by
 * `margin` knot spacings on each side, for plotting. Returns `x` `[numPoints]` and
 * `y` `[C, numPoints]`.
 */
export function splineCurves(coefficients: Tensor2D, grid: LinearSplineGrid, numPoints = 201,
    margin = 1): {x: Tensor1D, y: Tensor2D} {
  const [C, K] = check2d(coefficients, 'splineCurves');
  checkGrid(grid, 'splineCurves');
  checkInteger('numPoints', numPoints, 2, 'splineCurves');
  checkNonNegative('margin', margin, 'splineCurves');
  const lo = grid.start - margin * grid.step;
  const hi = grid.start + (K - 1 + margin) * grid.step;
  return tf.tidy(() => {
    const x = tf.linspace(lo, hi, numPoints) as Tensor1D;
    const xs = tf.tile(tf.reshape(x, [numPoints, 1]), [1, C]);
    const y = tf.transpose(linearSpline(xs, coefficients, grid)) as Tensor2D;
    return {x, y};
  });
}
