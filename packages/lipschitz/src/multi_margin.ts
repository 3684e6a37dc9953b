/**
 * deel-lip's `MultiMargin` (`deel/lip/losses.py`), PyTorch's `multi_margin_loss`: the hinge
 * of every other class's logit against the true class's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {MarginArgs} from './losses.js';
import {checkLossInputs, named, withNaNLabels} from './loss_inputs.js';
import {withParams} from './loss_params.js';
import type {ParametrizedLoss} from './loss_params.js';
import {checkArgsObject, checkMargin, marginCheck} from './loss_terms.js';

/**
 * The multiclass margin loss of deel-lip's `MultiMargin` (PyTorch's `multi_margin_loss` with
 * `p = 1`): per sample `sum_{k != true} relu(margin - f_true + f_k) / K` over the `K`
 * classes. Unlike {@link multiclassHinge} (deel-lip's one-vs-all hinge at `margin / 2`), the
 * margin here is between two logits, in full. `margin` (default 1) is settable.
 *
 * Labels: one-hot rows (`{0, 1}` or `{-1, 1}`) over at least 2 classes.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.multiMargin({margin: 0.7})});
 * ```
 */
export function multiMargin(args: MarginArgs = {}): ParametrizedLoss<'margin'> {
  const context = 'multiMargin';
  const params = {margin: checkMargin(checkArgsObject(args, 'margin', context), context)};
  return withParams(named((yTrue, yPred) => {
    checkLossInputs(yTrue, yPred, context, 2);
    const {margin} = params;
    return tf.tidy(() => {
      const isTrue = tf.greater(yTrue, 0);
      const trueLogit = tf.sum(tf.where(isTrue, yPred, tf.zerosLike(yPred)), -1, true);
      const terms = tf.relu(tf.add(tf.sub(margin, trueLogit), yPred));
      return withNaNLabels(yTrue, tf.mean(tf.where(isTrue, tf.zerosLike(terms), terms), -1));
    });
  }, context), params, marginCheck(context));
}
