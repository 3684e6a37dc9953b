/**
 * The slope operations on coefficients whose results are exact in float32 on every backend:
 * `softThresholdSlopes` (the proximal step of TV(2): removed knots are exactly 0) and
 * `clipSlopes`, both by rounding the slope steps to a common power-of-two quantum.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, Tensor2D} from '@tensorflow/tfjs-core';
import {ArgumentError} from './errors.js';
import {check2d} from './spline_math.js';
import {checkNonNegative, checkPositive} from './validate.js';

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
    // A flat gather (row r's index + r (K - 1)): tfjs-backend-wasm 4.22's GatherV2 with
    // batchDims > 0 returns wrong values and reads out of bounds from 32 rows on.
    const flat = tf.add(tf.cast(runStart, 'int32'), tf.reshape(tf.mul(tf.range(0, C, 1, 'int32'), tf.scalar(K - 1, 'int32')), [C, 1]));
    const dq = tf.reshape(tf.gather(tf.reshape(round(dNew), [-1]), tf.reshape(flat, [-1])), [C, K - 1]);
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
