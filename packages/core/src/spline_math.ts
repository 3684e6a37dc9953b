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

/** `[C, K]` of float32 coefficients with `K >= 3`; throws (naming `context`) otherwise. */
export function check2d(c: Tensor, context: string): [number, number] {
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
export function valuesOf(c: Tensor): Float32Array {
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
