/**
 * Accuracy metrics on logits, for models trained with the {@link losses} (whose outputs are
 * raw logits): `model.compile({metrics: [metrics.binaryAccuracyFromLogits]})`. tfjs's
 * `'accuracy'` on a one-unit output thresholds at 0.5, as for a probability; these
 * threshold the logit at 0.
 *
 * Like tfjs-layers' metrics they return per-sample values that tfjs averages; `fit`'s history
 * and `evaluate` name them after the function (`history.history.binaryAccuracyFromLogits`,
 * `val_binaryAccuracyFromLogits`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {checkLossInputs, named} from './loss_inputs.js';

/**
 * Binary accuracy of logits: 1 where the prediction `logit > 0` matches the label (positive
 * when `> 0`, so `{0, 1}` and `{-1, 1}` labels both work), averaged over the last axis.
 * A logit of exactly 0 counts as negative, as in {@link certifiedRadius}. A NaN label scores 0
 * (never a correct negative), as with tfjs's own `binaryAccuracy`.
 */
export function binaryAccuracyFromLogits(yTrue: Tensor, yPred: Tensor): Tensor {
  checkLossInputs(yTrue, yPred, 'binaryAccuracyFromLogits');
  return tf.tidy(() => {
    const agree = tf.equal(tf.greater(yTrue, 0), tf.greater(yPred, 0));
    // `NaN > 0` is false: without the mask a NaN label would count as a correct negative
    return tf.mean(tf.cast(tf.logicalAnd(agree, tf.logicalNot(tf.isNaN(yTrue))), 'float32'), -1);
  });
}

/**
 * Categorical accuracy of logits: 1 where the largest logit is the true class (the largest
 * label of the row: one-hot `{0, 1}` or `{-1, 1}` rows), per sample. The first index wins
 * ties. The same numbers as tfjs's `categoricalAccuracy` (softmax keeps the argmax), under a
 * name that says what it takes.
 */
export function categoricalAccuracyFromLogits(yTrue: Tensor, yPred: Tensor): Tensor {
  checkLossInputs(yTrue, yPred, 'categoricalAccuracyFromLogits', 2);
  return tf.tidy(() => tf.cast(tf.equal(tf.argMax(yTrue, -1), tf.argMax(yPred, -1)), 'float32'));
}

// The history keys are the functions' names: keep them when a bundler renames functions.
named(binaryAccuracyFromLogits, 'binaryAccuracyFromLogits');
named(categoricalAccuracyFromLogits, 'categoricalAccuracyFromLogits');
export {binaryProvableAvgRobustness, binaryProvableRobustAccuracy, categoricalProvableAvgRobustness,
  categoricalProvableRobustAccuracy} from './provable_metrics.js';
export type {CategoricalProvableArgs, ProvableAvgRobustnessArgs, ProvableMetricArgs,
  ProvableRobustAccuracyArgs} from './provable_metrics.js';
