/**
 * deel-lip's `TauSparseCategoricalCrossentropy` (`deel/lip/losses.py`): the softmax
 * cross-entropy of `tau * f` divided by `tau`, with class indices as labels.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {describe} from '@deepspline/core/internal';
import type {TauArgs} from './losses.js';
import {named} from './loss_inputs.js';
import {withParams} from './loss_params.js';
import type {ParametrizedLoss} from './loss_params.js';
import {checkTau, tauCheck} from './loss_terms.js';

function checkSparseInputs(yTrue: unknown, yPred: unknown, context: string): void {
  const shape = (t: unknown) => (t instanceof tf.Tensor ? `[${t.shape}]` : describe(t));
  const ok = yTrue instanceof tf.Tensor && yPred instanceof tf.Tensor && yPred.rank === 2 &&
    yPred.shape[1]! >= 2 && yTrue.shape[0] === yPred.shape[0] &&
    (yTrue.rank === 1 || (yTrue.rank === 2 && yTrue.shape[1] === 1));
  if (!ok) {
    throw new ArgumentError(`${context}: expected class indices yTrue of shape [batch] or [batch, 1] and logits ` +
      `yPred of shape [batch, classes] with classes >= 2, got ${shape(yTrue)} and ${shape(yPred)}`);
  }
}

/**
 * {@link tauCategoricalCrossentropy} with class indices for labels: per sample
 * `-logSoftmax(tau f)_y / tau`, deel-lip's `TauSparseCategoricalCrossentropy`. The labels are
 * class indices of shape `[batch]` or `[batch, 1]` (any dtype); a label that is not an
 * integer in `0..classes-1` (or is NaN) gives its sample a NaN loss, never a silent 0. `tau`
 * is settable (`loss.tau = 32`).
 *
 * In `model.fit` / `evaluate`: tfjs 4.22 checks the targets against the output's shape for
 * every loss except its own `sparseCategoricalCrossentropy` (recognised by identity), so it
 * refuses `[batch, 1]` labels for this one ("expected target to have shape [null, K]"). There,
 * pass `tf.oneHot(labels, K)` to {@link tauCategoricalCrossentropy} (the same values); this
 * loss serves custom training loops (`optimizer.minimize`) and evaluation code.
 *
 * @example
 * ```ts
 * const loss = losses.tauSparseCategoricalCrossentropy({tau: 16});
 * const perSample = loss(tf.tensor1d([2, 0]), tf.tensor2d([[0.1, 0.2, 0.9], [0.5, -0.3, 0.0]]));
 * ```
 */
export function tauSparseCategoricalCrossentropy(args: TauArgs): ParametrizedLoss<'tau'> {
  const context = 'tauSparseCategoricalCrossentropy';
  const params = {tau: checkTau(args, context)};
  return withParams(named((yTrue, yPred) => {
    checkSparseInputs(yTrue, yPred, context);
    const {tau} = params;
    const classes = yPred.shape[1]!;
    return tf.tidy(() => {
      const labels = tf.reshape(tf.cast(yTrue, 'float32'), [yPred.shape[0]!]);
      const valid = tf.logicalAnd(tf.logicalAnd(tf.equal(labels, tf.floor(labels)), tf.greaterEqual(labels, 0)),
        tf.less(labels, classes));
      // an invalid label becomes class 0 for oneHot and its loss NaN below
      const index = tf.cast(tf.where(valid, labels, tf.zerosLike(labels)), 'int32');
      const ce = tf.div(tf.neg(tf.sum(tf.mul(tf.oneHot(index, classes), tf.logSoftmax(tf.mul(yPred, tau))), -1)), tau);
      return tf.where(valid, ce, tf.fill(ce.shape, NaN));
    });
  }, context), params, tauCheck(context));
}
