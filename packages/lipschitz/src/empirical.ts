/** A lower bound on a model's Lipschitz constant from input Jacobians at given points. */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {describe} from '@deepspline/core/internal';
import {isLayersModel} from '@deepspline/layers';
import {checkNorm, matrixNorm, spectralNormFromBelow} from './matrix_norm.js';
import type {Norm} from './matrix_norm.js';

/** Options of {@link empiricalLipschitz}. */
export interface EmpiricalLipschitzOptions {
  /**
   * The vector norm: 1, 2 or Infinity.
   * @defaultValue `2`
   */
  norm?: number;
}

/** Result of {@link empiricalLipschitz}. */
export interface EmpiricalLipschitz {
  /** The largest Jacobian operator norm over the points: a lower bound on the Lipschitz constant. */
  value: number;
  /** The Jacobian operator norm at each point. */
  perPoint: number[];
  /** The norm used. */
  norm: Norm;
}

const CONTEXT = 'empiricalLipschitz';

/**
 * The model's input Jacobian `J [outputs, inputs]` at every point of `x`, as float64 rows.
 * One backward pass per output component over the whole batch (points are independent in
 * inference mode).
 */
function jacobians(model: tfl.LayersModel, x: Tensor): {rows: Float64Array[], m: number, n: number} {
  const batch = x.shape[0]!;
  const n = x.size / batch;
  const outShape = model.outputs[0]!.shape;
  const m = outShape.slice(1).reduce((a: number, b) => a * (b as number), 1);
  if (!(m > 0)) throw new ArgumentError(`${CONTEXT}: the model's output shape ${describe(outShape)} is not fully known`);
  const f = (xs: Tensor) => tf.reshape(model.apply(xs, {training: false}) as Tensor, [batch, m]);
  const rows = Array.from({length: batch}, () => new Float64Array(m * n));
  for (let j = 0; j < m; ++j) {
    const g = tf.tidy(() => tf.grad((xs: Tensor) => tf.sum(tf.slice(f(xs), [0, j], [batch, 1])))(x));
    const data = g.dataSync();
    g.dispose();
    for (let b = 0; b < batch; ++b) {
      rows[b]!.set(data.subarray(b * n, (b + 1) * n), j * n);
    }
  }
  return {rows, m, n};
}

/**
 * A lower bound on the Lipschitz constant of `model` (single input and output): the largest
 * operator norm of the input Jacobian over the points `x` (`[batch, ...inputShape]`).
 * Norm 2: the largest singular value of each Jacobian (float64 power iteration on `J^T J`);
 * norm Infinity: the largest absolute row sum; norm 1: the largest absolute column sum. Any
 * valid upper bound ({@link lipschitzBound}) is at least this value.
 *
 * @example
 * ```ts
 * const {value} = empiricalLipschitz(model, tf.randomUniform([64, 2], -1, 1), {norm: 2});
 * ```
 */
export function empiricalLipschitz(model: tfl.LayersModel, x: Tensor,
    options: EmpiricalLipschitzOptions = {}): EmpiricalLipschitz {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`${CONTEXT}: expected a tfjs-layers model, got ${describe(model)}`);
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ArgumentError(`${CONTEXT}: expected a model with one input and one output, got ` +
      `${model.inputs.length} inputs and ${model.outputs.length} outputs`);
  }
  if (!(x instanceof tf.Tensor) || x.rank < 2 || x.shape[0] === 0 || x.dtype !== 'float32') {
    const what = x instanceof tf.Tensor ? `a ${x.dtype} tensor of shape [${x.shape}]` : describe(x);
    throw new ArgumentError(`${CONTEXT}: expected float32 points x of shape [batch, ...inputShape], got ${what}`);
  }
  const norm = checkNorm(options?.norm ?? 2, CONTEXT);
  const {rows, m, n} = jacobians(model, x);
  // J is [m, n] acting on column vectors; matrixNorm takes a [rows, cols] kernel acting on
  // row vectors (x -> x W), i.e. W = J^T: transpose.
  const perPoint = rows.map((j) => {
    const w = new Float64Array(n * m);
    for (let a = 0; a < m; ++a) for (let b = 0; b < n; ++b) w[b * m + a] = j[a * n + b]!;
    // a lower bound wants the estimate from below (norms 1 and Infinity are exact)
    return norm === 2 ? spectralNormFromBelow(w, n, m) : matrixNorm(w, n, m, norm);
  });
  return {value: Math.max(...perPoint), perPoint, norm};
}
