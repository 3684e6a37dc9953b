/** The op `linearSpline`: chooses the fused kernel when the backend has one, else the fallback. */
import {ArgumentError} from './errors.js';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, TensorLike} from '@tensorflow/tfjs-core';
import {linearSplineFallback} from './fallback.js';
import {runKernel} from './tfjs_internals.js';
import {LinearSpline, LinearSplineGrad} from './kernel_names.js';
import {checkSplineArgs, describe} from './validate.js';

/** Where the knots are: `t_k = start + k * step`, `k = 0 .. K-1`. */
export interface LinearSplineGrid {
  /** First knot `t_0`, e.g. `-range`. */
  start: number;
  /** Spacing `T > 0` between knots. */
  step: number;
}

/** How {@link linearSpline} is run on the active backend. */
export type SplineImplementation = 'kernel' | 'fallback';

let forced: SplineImplementation | null = null;

/**
 * Forces the fused kernel or the fallback for every later call (`null`: choose
 * automatically). For tests and benchmarks; forcing `'kernel'` on a backend without one
 * throws at the next call.
 */
export function setSplineImplementation(impl: SplineImplementation | null): void {
  if (impl !== null && impl !== 'kernel' && impl !== 'fallback') {
    throw new ArgumentError(`setSplineImplementation: expected 'kernel', 'fallback' or null, got ${describe(impl)}`);
  }
  forced = impl;
}

/** The implementation {@link linearSpline} uses on `backendName` (default: the active backend). */
export function splineImplementation(backendName: string = tf.getBackend()): SplineImplementation {
  if (forced !== null) return forced;
  return tf.getKernel(LinearSpline, backendName) != null && tf.getKernel(LinearSplineGrad, backendName) != null ?
      'kernel' : 'fallback';
}

function toTensor(value: Tensor | TensorLike, name: string): Tensor {
  if (value instanceof tf.Tensor) return value;
  if (value == null || (typeof value !== 'number' && typeof value !== 'object')) {
    throw new ArgumentError(`linearSpline: expected ${name} to be a tensor or an array of numbers, ` +
      `got ${describe(value)}`);
  }
  return tf.tensor(value as TensorLike, undefined, 'float32');
}

function linearSpline_(x: Tensor | TensorLike, coefficients: Tensor | TensorLike,
    grid: LinearSplineGrid): Tensor {
  if (grid == null || typeof grid !== 'object') {
    throw new ArgumentError(`linearSpline: expected grid {start, step}, got ${describe(grid)}`);
  }
  const {start, step} = grid;
  const $x = toTensor(x, 'x');
  let $c: Tensor | null = null;
  // The tensors converted from arrays are ours: disposed on every path, errors included.
  try {
    $c = toTensor(coefficients, 'coefficients');
    checkSplineArgs({xShape: $x.shape, xDtype: $x.dtype, coefficientsShape: $c.shape,
      coefficientsDtype: $c.dtype, start, step});
    if (splineImplementation() === 'kernel') {
      return runKernel(LinearSpline, {x: $x, coefficients: $c}, {start, step}) as Tensor;
    }
    return linearSplineFallback($x, $c, start, step);
  } finally {
    if ($x !== x) $x.dispose();
    if ($c !== null && $c !== coefficients) $c.dispose();
  }
}

/**
 * A learnable linear spline applied elementwise, one spline per channel of the last axis.
 *
 * For an input value `x` in channel `n`, the output is the linear B-spline with coefficients
 * `coefficients[n]` on the knots `start + k * step`: it interpolates the coefficients
 * between knots and extends the end segments linearly outside them. The gradient with
 * respect to both `x` and `coefficients` is defined (exact semantics: the "Semantics" section
 * of the `@deepspline/core` README).
 *
 * @param x Float32 tensor of any rank, channels on the last axis.
 * @param coefficients Float32 `[C, K]`, `K >= 3`: `C` = size of the last axis of `x`, or
 *   `C = 1` for one spline shared by every channel.
 * @param grid The knots: `{start, step}` with `step > 0`.
 * @returns A float32 tensor of the shape of `x`.
 *
 * Defined with `tf.op`, as tfjs's own ops are: it runs in an engine scope named `linearSpline__op`
 * that frees its intermediates.
 *
 * @function
 * @example
 * ```ts
 * const x = tf.tensor2d([[-1, 0.5], [2, 0]]);
 * const c = tf.tensor2d([[0, 0, 1], [1, 0, 1]]);      // relu-like and abs-like, knots -1, 0, 1
 * linearSpline(x, c, {start: -1, step: 1}).print();  // [[0, 0.5], [2, 0]]
 * ```
 */
export const linearSpline = tf.op({linearSpline_});
