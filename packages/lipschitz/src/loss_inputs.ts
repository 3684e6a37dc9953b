/** The argument checks shared by the losses and metrics on logits (internal). */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {describe} from '@deepspline/core/internal';

/**
 * Throws unless `yTrue` and `yPred` are tensors of one shape `[batch, ..., units]` with at
 * least `minUnits` units on the last axis (and, if `rank2`, exactly two axes).
 */
export function checkLossInputs(yTrue: unknown, yPred: unknown, context: string, minUnits = 1,
    rank2 = false): void {
  const shape = (t: unknown) => (t instanceof tf.Tensor ? `[${t.shape}]` : describe(t));
  const want = rank2 ? '[batch, units]' : '[batch, ..., units]';
  if (!(yTrue instanceof tf.Tensor) || !(yPred instanceof tf.Tensor) || yPred.rank < 2 ||
      (rank2 && yPred.rank !== 2) || !tf.util.arraysEqual(yTrue.shape, yPred.shape)) {
    throw new ArgumentError(`${context}: expected yTrue and yPred to be tensors of the same shape ${want}, ` +
      `got ${shape(yTrue)} and ${shape(yPred)}`);
  }
  if (yPred.shape[yPred.rank - 1]! < minUnits) {
    throw new ArgumentError(`${context}: expected at least ${minUnits} classes on the last axis, got ` +
      `shape [${yPred.shape}]`);
  }
}

/** Names `fn` (tfjs shows a function's name in messages and history keys), minifier-proof. */
export function named(fn: (yTrue: Tensor, yPred: Tensor) => Tensor, name: string):
    (yTrue: Tensor, yPred: Tensor) => Tensor {
  Object.defineProperty(fn, 'name', {value: name});
  return fn;
}

/**
 * `perSample` (the per-sample losses) with NaN for every sample whose label holds a NaN, or,
 * with `wholeBatch` (losses with batch statistics, such as KR), for every sample once any
 * label does. The losses threshold their labels (`> 0`), which would silently read NaN as a
 * negative; tfjs's own losses propagate a NaN label to the loss.
 */
export function withNaNLabels(yTrue: Tensor, perSample: Tensor, wholeBatch = false): Tensor {
  return tf.tidy(() => {
    const nan = wholeBatch ? tf.any(tf.isNaN(yTrue)) : tf.any(tf.isNaN(yTrue), -1);
    return tf.add(perSample, tf.where(nan, tf.fill(nan.shape, NaN), tf.zeros(nan.shape)));
  });
}
