/**
 * The affine part of the proximal TV(2) step of {@link TV2ProximalOptimizer}: the penalty
 * constrains only the ReLU slopes, so the solver is free to add an affine function to the
 * spline's values, and adds the one that moves them the least in Adam's metric.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, Tensor2D} from '@tensorflow/tfjs-core';

/**
 * The affine function `alpha + beta k` (per spline, `[C, K]`) that makes the soft-threshold's
 * change of `c` the smallest in the metric `diag(D)`, `D ~ 1 / weight`: `softThresholdSlopes`
 * keeps `c[0]`, `c[1]` and moves every value right of a shrunk knot down its ramp, `cut[k]`;
 * this is the weighted least-squares fit of `cut` by `alpha + beta k` with weights
 * `weight[k]`, which added to `c` before the threshold makes the change `alpha + beta k -
 * cut[k]`, with the same slopes `a` (an affine function has none).
 */
export function metricAffine(c: Tensor2D, threshold: Tensor2D, T: number, weight: Tensor): Tensor {
  const [C, K] = c.shape;
  const cols = (x: Tensor, from: number, n: number) => tf.slice(x, [0, from], [C, n]);
  const d = tf.sub(cols(c, 1, K - 1), cols(c, 0, K - 1));
  const Ta = tf.sub(cols(d, 1, K - 2), cols(d, 0, K - 2));
  const shrunk = tf.mul(tf.sign(Ta), tf.relu(tf.sub(tf.abs(Ta), tf.mul(threshold, T))));
  const zero = tf.zeros([C, 1]);
  const dCut = tf.concat([zero, tf.cumsum(tf.sub(Ta, shrunk), 1)], 1);
  const cut = tf.concat([zero, tf.cumsum(dCut, 1)], 1);
  // Centred weighted least squares; the 1e-6 keeps the slope at 0 where the weights sit on one value.
  const k = tf.range(0, K, 1, 'float32');
  const total = tf.sum(weight, 1, true);
  const mean = (x: Tensor) => tf.div(tf.sum(tf.mul(weight, x), 1, true), total);
  const dk = tf.sub(k, mean(k));
  const beta = tf.div(mean(tf.mul(dk, cut)), tf.add(mean(tf.square(dk)), 1e-6));
  return tf.add(mean(cut), tf.mul(beta, dk));
}
