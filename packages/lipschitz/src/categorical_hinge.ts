/**
 * deel-lip's `CategoricalHinge` (`deel/lip/losses.py`): the hinge on the margin between the
 * true class's logit and the largest other one, with a settable margin.
 */
import * as tf from '@tensorflow/tfjs-core';
import {checkNonNegative} from '@deepspline/core/internal';
import {checkLossInputs, named, withNaNLabels} from './loss_inputs.js';
import {withParams} from './loss_params.js';
import type {ParametrizedLoss} from './loss_params.js';
import {checkArgsObject, marginCheck} from './loss_terms.js';

/** Arguments of {@link categoricalHinge}. */
export interface CategoricalHingeArgs {
  /**
   * The margin `m >= 0` (finite) that the true class's logit should lead the others by.
   * Required, as deel-lip's `min_margin` of `CategoricalHinge` is.
   */
  margin: number;
}

/**
 * The categorical hinge with a margin, deel-lip's `CategoricalHinge`: per sample
 * `relu(margin - (f_true - max_{k != true} f_k))` (the Crammer-Singer hinge; tfjs's
 * `categoricalHinge` has the margin fixed to 1 and sums the logits of soft labels). A
 * 1-Lipschitz network with zero loss has every training point at least `margin` ahead, so
 * certified at l2 radius `margin / sqrt(2)`. `margin` is settable (`loss.margin = 0.5`).
 *
 * Labels: one-hot rows (`{0, 1}` or `{-1, 1}`, the entry `> 0` marks the true class) over at
 * least 2 classes.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.categoricalHinge({margin: 0.5})});
 * ```
 */
export function categoricalHinge(args: CategoricalHingeArgs): ParametrizedLoss<'margin'> {
  const context = 'categoricalHinge';
  const params = {margin: checkNonNegative('margin', checkArgsObject(args, 'margin', context).margin, context)};
  return withParams(named((yTrue, yPred) => {
    checkLossInputs(yTrue, yPred, context, 2);
    const {margin} = params;
    return tf.tidy(() => {
      const isTrue = tf.greater(yTrue, 0);
      const trueLogit = tf.sum(tf.where(isTrue, yPred, tf.zerosLike(yPred)), -1);
      const otherMax = tf.max(tf.where(isTrue, tf.fill(yPred.shape, -Infinity), yPred), -1);
      return withNaNLabels(yTrue, tf.relu(tf.sub(margin, tf.sub(trueLogit, otherMax))));
    });
  }, context), params, marginCheck(context));
}
