/**
 * deel-lip's `MulticlassSoftHKR` (`deel/lip/losses.py`): the multiclass HKR loss whose
 * one-vs-all terms of the wrong classes are weighted by a softmax of their logits, at a
 * temperature that follows a running mean of the logits' size.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Scalar, Tensor, Variable} from '@tensorflow/tfjs-core';
import {checkFinite, checkPositive, describe} from '@deepspline/core/internal';
import {checkLossInputs, named, withNaNLabels} from './loss_inputs.js';
import {withParams} from './loss_params.js';
import type {ParametrizedLoss} from './loss_params.js';
import {checkArgsObject, checkMargin, marginCheck, signs} from './loss_terms.js';

/** Arguments of {@link multiclassSoftHkr}. */
export interface MulticlassSoftHkrArgs {
  /**
   * The weight `alpha > 0` (finite) of the hinge against the KR term: the loss is
   * `KR / alpha + hinge` (deel-lip's scaling for this loss, unlike {@link multiclassHkr}'s
   * `-KR + alpha * hinge`).
   * @defaultValue 10
   */
  alpha?: number;
  /**
   * The margin `m > 0` (finite): the hinge is `relu(m/2 - s_k f_k)`, the running mean is
   * started at and clipped from below by `m`, and the softmax temperature is
   * `temperature * m / runningMean`.
   * @defaultValue 1
   */
  margin?: number;
  /**
   * The decay of the running mean of `mean(|f|)` over the calls, in `[0, 1]`.
   * @defaultValue 0.99
   */
  alphaMean?: number;
  /**
   * The softmax temperature factor `> 0` (higher: more weight on the largest wrong logits).
   * @defaultValue 1
   */
  temperature?: number;
}

/** A {@link multiclassSoftHkr} loss: settable `alpha` and `margin`, and its running-mean state. */
export type MulticlassSoftHkrLoss = ParametrizedLoss<'alpha' | 'margin'> & {
  /** Releases the running-mean variable (the loss must not be called afterwards). */
  dispose(): void;
};

const DEFAULT_ALPHA = 10;
const DEFAULT_ALPHA_MEAN = 0.99;
const DEFAULT_TEMPERATURE = 1;
/** deel-lip's clips of the running mean and of the effective temperature. */
const MEAN_MAX = 20000;
const TEMPERATURE_MIN = 0.005;
const TEMPERATURE_MAX = 250;

/**
 * The multiclass soft HKR loss of deel-lip's `MulticlassSoftHKR`: per sample
 * `sum_k F_k (-s_k f_k) / alpha + sum_k F_k relu(margin/2 - s_k f_k)` with `s_k = +1` for
 * the true class and `-1` for the others, `F_true = 1` and, over the other classes, `F` the
 * softmax of `T f_k` (so the largest wrong logits weigh most). The temperature
 * `T = clip(temperature * margin / M, 0.005, 250)` (no gradient) follows the running mean
 * `M = clip(mu, margin, 20000)`, `mu <- alphaMean * mu + (1 - alphaMean) * mean(|f|)`,
 * updated at every call (training and evaluation, as deel-lip's) and started at `margin`.
 *
 * The loss is stateful (a scalar variable, created with the loss): one instance per model, and
 * `loss.dispose()` releases it.
 * `alpha` and `margin` are settable. Labels: one-hot rows (`{0, 1}` or `{-1, 1}`) over at
 * least 2 classes.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.multiclassSoftHkr({alpha: 10, margin: 0.2})});
 * ```
 */
export function multiclassSoftHkr(args: MulticlassSoftHkrArgs = {}): MulticlassSoftHkrLoss {
  const context = 'multiclassSoftHkr';
  const a = checkArgsObject(args, 'alpha, margin, alphaMean, temperature', context);
  const checkAlpha = (v: unknown) => checkPositive('alpha', v, context);
  const checkSoftMargin = (v: unknown) => checkPositive('margin', checkMargin({margin: v}, context), context);
  const params = {alpha: checkAlpha(a.alpha ?? DEFAULT_ALPHA), margin: checkSoftMargin(a.margin)};
  const alphaMean = checkFinite('alphaMean', a.alphaMean ?? DEFAULT_ALPHA_MEAN, context);
  if (alphaMean < 0 || alphaMean > 1) {
    throw new ArgumentError(`${context}: expected alphaMean in [0, 1], got ${describe(a.alphaMean)}`);
  }
  const temperature = checkPositive('temperature', a.temperature ?? DEFAULT_TEMPERATURE, context);
  // kept: tidy spares variables
  const runningMean: Variable = tf.tidy(() => tf.variable(tf.scalar(params.margin), false));
  let disposed = false;
  const loss = withParams(named((yTrue: Tensor, yPred: Tensor) => {
    if (disposed) throw new ArgumentError(`${context}: the loss was disposed`);
    checkLossInputs(yTrue, yPred, context, 2, true);
    const {alpha, margin} = params;
    const mu = runningMean;
    return tf.tidy(() => {
      const next = tf.add(tf.mul(mu, alphaMean), tf.mul(tf.mean(tf.abs(yPred)), 1 - alphaMean)) as Scalar;
      mu.assign(next);
      const temp = tf.clipByValue(tf.div(temperature * margin, tf.clipByValue(next, margin, MEAN_MAX)),
        TEMPERATURE_MIN, TEMPERATURE_MAX);
      const isTrue = tf.greater(yTrue, 0);
      // the true class out of the softmax (deel-lip puts -float32 max there), then weight 1
      const logits = tf.where(isTrue, tf.fill(yPred.shape, -3.4028234663852886e38), tf.mul(yPred, temp));
      const weights = tf.where(isTrue, tf.onesLike(yPred), tf.softmax(logits));
      const signed = tf.mul(signs(yTrue), yPred);
      const krTerm = tf.sum(tf.mul(tf.neg(signed), weights), -1);
      const hingeTerm = tf.sum(tf.mul(tf.relu(tf.sub(margin / 2, signed)), weights), -1);
      return withNaNLabels(yTrue, tf.add(tf.div(krTerm, alpha), hingeTerm));
    });
  }, context), params, {alpha: checkAlpha, margin: checkSoftMargin}) as MulticlassSoftHkrLoss;
  Object.defineProperty(loss, 'dispose', {value: () => {
    if (!disposed) runningMean.dispose();
    disposed = true;
  }});
  return loss;
}
