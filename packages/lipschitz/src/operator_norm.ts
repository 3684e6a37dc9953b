/**
 * Operator norms of linear tensor functions (a layer's linear part): through their exact matrix
 * when it is small (`matrix_norm.ts`), else through sums of their absolute values, the
 * 1-norm's adjoint by automatic differentiation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {runSync, take} from './reads.js';
import type {TensorReads} from './reads.js';
import {freeFailedTape, scoped} from './tfjs_internals.js';
import {matrixNorm} from './matrix_norm.js';
import type {Norm} from './matrix_norm.js';
import type {PowerIterationOptions} from './power_iteration.js';

/** A linear map on tensors of shape `[1, ...inShape]` and the same map with |weights|. */
export interface LinearTensorOp {
  /** The input shape without the batch axis. */
  inShape: number[];
  /** The linear map (no bias, no activation). */
  apply(x: Tensor): Tensor;
  /** The map with every weight replaced by its absolute value (for the 1 and Inf norms). */
  applyAbs(x: Tensor): Tensor;
}

/**
 * Runs `fn`, which takes a gradient. If the backward pass throws (a kernel without a
 * gradient kernel on this backend), tfjs-core 4.22's `engine.gradients` leaves the tensors
 * it saved for it kept on its tape (it frees them only after a complete pass): they are
 * freed here.
 */
function withGradients<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    freeFailedTape();
    throw e;
  }
}

/**
 * Operator norm of a linear tensor map for the flattened input and output:
 * - `p = Infinity`: largest absolute row sum, `max(|A| 1)`;
 * - `p = 1`: largest absolute column sum, `max(|A|^T 1)` (the adjoint by autodiff);
 *   both summed by the backend in float32 and rounded up for it (by `(terms + 2) 2^-23`
 *   relative; the layers' rules sum convolution weights in float64 instead, exactly);
 * - `p = 2`: for operators of at most `explicitLimit` entries, the proven norm of their exact
 *   matrix (formed by one batched call on the identity, then {@link matrixNorm}); above it,
 *   `sqrt(||A||_1 ||A||_Inf)` from the two sums above: proven, but it can be well above the
 *   norm (a matrix-free iteration gives no proven upper bound). The convolution layers' rules
 *   bound large convolutions more tightly from their kernels.
 */
export function tensorOpNorm(op: LinearTensorOp, p: Norm, options: PowerIterationOptions = {},
    key = 'op'): number {
  return runSync(tensorOpNormReads(op, p, options, key));
}

/** {@link tensorOpNorm} as {@link TensorReads} (for `lipschitzBoundAsync`). */
export function* tensorOpNormReads(op: LinearTensorOp, p: Norm, options: PowerIterationOptions = {},
    key = 'op'): TensorReads<number> {
  const shape = [1, ...op.inShape];
  const n = op.inShape.reduce((a, b) => a * b, 1);
  if (n === 0) return 0;
  const outSize = scoped(() => op.apply(tf.zeros(shape)).size);
  if (outSize === 0) return 0;  // empty output
  // The sums below are computed by the backend in float32: a sum of m non-negative terms
  // rounds to at least exact * (1 - 2^-24)^(m - 1), so exact <= computed * (1 + (m + 2) 2^-23).
  if (p === Infinity) {
    return (yield* take(tf.tidy(() => tf.max(op.applyAbs(tf.ones(shape))))))[0]! * (1 + (n + 2) * 2 ** -23);
  }
  if (p === 1) {
    return (yield* take(tf.tidy(() => withGradients(() =>
      tf.max(tf.grad((x: Tensor) => tf.sum(op.applyAbs(x)))(tf.ones(shape)))))))[0]! * (1 + (outSize + 2) * 2 ** -23);
  }
  if (n * outSize <= (options.explicitLimit ?? 1e6)) {
    // Small operator: its exact matrix W [n, out] (row i = op(e_i), one batched call), then
    // the float64 dense routine.
    const w = Float64Array.from(yield* take(tf.tidy(() =>
      op.apply(tf.reshape(tf.eye(n), [n, ...op.inShape])))));
    return matrixNorm(w, n, outSize, 2, options, key);
  }
  // Larger: no iteration on the operator proves its top singular value (a residual test only
  // shows that *some* one is near its estimate), so the Schur bound
  // ||A||_2 <= sqrt(||A||_1 ||A||_Inf), which holds for every matrix. Convolution layers get
  // a tighter proven bound from their kernels (conv_fourier.ts) instead of this one.
  return Math.sqrt((yield* tensorOpNormReads(op, 1)) * (yield* tensorOpNormReads(op, Infinity))) * (1 + 2 ** -50);
}

