/** Certified l2 robustness radii of classifiers from a Lipschitz bound. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {checkFinite, describe} from '@deepspline/core';
import {lipschitzBound} from './bound.js';
import {isLayersModel} from './guards.js';

/** Options of {@link certifiedRadius}. */
export interface CertifiedRadiusOptions {
  /** An l2 Lipschitz bound of the model; default `lipschitzBound(model, {norm: 2}).bound`. */
  bound?: number;
  /** For a model with one output unit: the decision threshold on that output. Default 0. */
  threshold?: number;
}

/** Result of {@link certifiedRadius}. */
export interface CertifiedRadius {
  /** Per sample: no input perturbation with l2 norm below this changes the predicted class. */
  radius: number[];
  /** Per sample: the predicted class. */
  predicted: number[];
  /** Per sample: the margin (top score minus runner-up, or distance to the threshold). */
  margin: number[];
  /** The l2 Lipschitz bound used. */
  bound: number;
}

const CONTEXT = 'certifiedRadius';

/**
 * Certified l2 radii of a classifier: for a model whose outputs are class scores
 * (`[batch, classes]`, classes >= 2), the radius is `margin / (sqrt(2) L)` where the margin
 * is the top score minus the runner-up and `L` an l2 Lipschitz bound of the scores
 * (`s_i - s_j` is `sqrt(2) L`-Lipschitz). For one output unit (binary decision at
 * `threshold`) the radius is `|s - threshold| / L`.
 *
 * @example
 * ```ts
 * const {radius, predicted} = certifiedRadius(model, xs);
 * ```
 */
export function certifiedRadius(model: tfl.LayersModel, x: Tensor,
    options: CertifiedRadiusOptions = {}): CertifiedRadius {
  if (!isLayersModel(model)) {
    throw new Error(`${CONTEXT}: expected a tfjs-layers model, got ${describe(model)}`);
  }
  if (!(x instanceof tf.Tensor) || x.rank < 2) {
    throw new Error(`${CONTEXT}: expected points x of shape [batch, ...inputShape], got ${describe(x)}`);
  }
  let bound: number;
  if (options.bound !== undefined) {
    bound = checkFinite('bound', options.bound, CONTEXT);
    if (bound < 0) throw new Error(`${CONTEXT}: expected bound >= 0, got ${describe(options.bound)}`);
  } else {
    bound = lipschitzBound(model, {norm: 2}).bound;
  }
  const threshold = checkFinite('threshold', options.threshold ?? 0, CONTEXT);
  const scores = tf.tidy(() => {
    const y = model.predict(x) as Tensor;
    return tf.reshape(y, [y.shape[0]!, -1]);
  });
  const [batch, classes] = scores.shape as [number, number];
  const data = scores.dataSync();
  scores.dispose();
  const radius: number[] = [];
  const predicted: number[] = [];
  const margin: number[] = [];
  for (let b = 0; b < batch; ++b) {
    const row = data.subarray(b * classes, (b + 1) * classes);
    let m: number;
    let cls: number;
    let scale: number;
    if (classes === 1) {
      cls = row[0]! > threshold ? 1 : 0;
      m = Math.abs(row[0]! - threshold);
      scale = bound;
    } else {
      cls = 0;
      for (let i = 1; i < classes; ++i) if (row[i]! > row[cls]!) cls = i;
      let second = -Infinity;
      for (let i = 0; i < classes; ++i) if (i !== cls) second = Math.max(second, row[i]!);
      m = row[cls]! - second;
      scale = Math.SQRT2 * bound;
    }
    predicted.push(cls);
    margin.push(m);
    radius.push(scale > 0 ? m / scale : Infinity);
  }
  return {radius, predicted, margin, bound};
}
