/**
 * Losses for Lipschitz classifiers, those of deel-lip (`deel/lip/losses.py`, v1.5.1), for
 * `model.compile({loss})`. Béthune et al., "Pay attention to your loss: understanding
 * misconceptions about 1-Lipschitz neural networks" (NeurIPS 2022): a 1-Lipschitz network
 * classifies as well as an unconstrained one, and the loss's scale (`tau`, `margin`,
 * `alpha`) sets the trade-off between accuracy and certified margin.
 *
 * Every loss takes the network's raw outputs (logits, no sigmoid or softmax) and returns the
 * per-sample losses, shape `[batch, ...]` without the last axis, as tfjs-layers' own losses
 * do: `fit` weights them (`classWeight`), `fit` and `evaluate` average them. Use
 * `tf.mean(loss(yTrue, yPred))` for the batch loss.
 *
 * NaN labels: a sample whose label holds a NaN gets a NaN loss (for {@link hkr} and
 * {@link multiclassHkr}, whose KR term is a batch statistic, every sample of the batch), so
 * the batch loss is NaN, as with tfjs's own losses; a NaN is never read as a negative label.
 *
 * Parameters: every loss's `tau`, `margin` or `alpha` is a property that may be set between
 * steps (`loss.tau = 32`, checked as the factory checks it); a model compiled with the loss
 * uses the new value from its next step on. {@link lossParamScheduler} sets them during `fit`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {checkLossInputs, named, withNaNLabels} from './loss_inputs.js';
import {withParams} from './loss_params.js';
import type {ParametrizedLoss} from './loss_params.js';
import {checkArgsObject, checkHkrArgs, checkMargin, checkTau, hinge, hkrCheck, krPerSample, marginCheck,
  multiclassHingePerSample, tauCheck} from './loss_terms.js';

/**
 * A loss for `model.compile({loss})`: `(yTrue, yPred) => ` the per-sample losses (the last
 * axis averaged or summed away), which tfjs weights and averages over the batch.
 *
 * Saving: `model.save()` needs nothing from a loss (tfjs saves the topology and weights, not
 * the compile arguments). With `{includeOptimizer: true}` tfjs, which stores only string loss
 * and metric names, saves an empty loss and the metrics' names, and loading fails on them
 * ("Unknown metric binaryAccuracyFromLogits") or gives a model without a loss: save without
 * it and compile the loaded model again.
 */
export type LossFunction = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Arguments of {@link tauBinaryCrossentropy} and {@link tauCategoricalCrossentropy}. */
export interface TauArgs {
  /**
   * The temperature `tau > 0` (finite) that multiplies the logits. Larger values give more
   * accuracy and smaller certified margins (Béthune et al. 2022); a 1-Lipschitz classifier
   * needs a large one (e.g. 16 to 64 on the 2-D tasks of examples/twod), since its logits
   * change by at most the input distance.
   */
  tau: number;
}

/** Arguments of {@link hingeMargin} and {@link multiclassHinge}. */
export interface MarginArgs {
  /**
   * The margin `m >= 0` (finite): the hinge is `relu(m/2 - y f)`, so a sample stops
   * contributing once its logit is on the correct side by `m/2`.
   *
   * @defaultValue 1
   */
  margin?: number;
}

/** Arguments of {@link hkr} and {@link multiclassHkr}. */
export interface HkrArgs extends MarginArgs {
  /**
   * The weight `alpha >= 0` (finite) of the hinge term against the Kantorovich-Rubinstein
   * term. deel-lip's `MulticlassHKR` defaults to 10; its `HKR` has no default. `alpha = 0`
   * is the pure (negated) KR loss; for the hinge alone use {@link hingeMargin}.
   */
  alpha: number;
}

/**
 * Binary cross-entropy on the sigmoid of `tau * f` (f: the logits), divided by `tau`:
 * deel-lip's `TauBinaryCrossentropy`. Per sample, averaged over the last axis,
 * `(softplus(tau f) - y tau f) / tau`, evaluated as
 * `(max(z, 0) - y z + log1p(exp(-|z|))) / tau` with `z = tau f` (no overflow for any `z`).
 *
 * The division by `tau` (deel-lip's convention, as its `TauCategoricalCrossentropy`) keeps
 * the gradient with respect to the logit, `sigmoid(tau f) - y`, in `[-1, 1]` for every
 * `tau`, so the learning rate does not have to follow `tau`; as `tau` grows the loss tends to
 * the hinge `relu(-(2y - 1) f)`. Multiply by `tau` for the plain cross-entropy of
 * `sigmoid(tau f)`.
 *
 * Labels: a label `> 0` is the positive class, so `{0, 1}` and `{-1, 1}` both work (soft
 * labels are thresholded, as in deel-lip). One output unit, or several independent binary
 * outputs (averaged).
 *
 * @example
 * ```ts
 * model.compile({optimizer: tf.train.adam(1e-3), loss: losses.tauBinaryCrossentropy({tau: 16}),
 *   metrics: [metrics.binaryAccuracyFromLogits]});
 * ```
 */
export function tauBinaryCrossentropy(args: TauArgs): ParametrizedLoss<'tau'> {
  const context = 'tauBinaryCrossentropy';
  const params = {tau: checkTau(args, context)};
  return withParams(named((yTrue, yPred) => {
    checkLossInputs(yTrue, yPred, context);
    const {tau} = params;
    return tf.tidy(() => {
      const z = tf.mul(yPred, tau);
      const y = tf.cast(tf.greater(yTrue, 0), 'float32');
      const ce = tf.add(tf.sub(tf.relu(z), tf.mul(y, z)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      return withNaNLabels(yTrue, tf.div(tf.mean(ce, -1), tau));
    });
  }, context), params, tauCheck(context));
}

/**
 * Softmax cross-entropy on `tau * f` (f: the logits), divided by `tau`: deel-lip's
 * `TauCategoricalCrossentropy`. Per sample, `-sum_k y_k logSoftmax(tau f)_k / tau`.
 * Dividing by `tau` keeps the gradient with respect to the logits, `softmax(tau f) - y`,
 * bounded for every `tau` (see {@link tauBinaryCrossentropy}).
 *
 * Labels: one-hot rows (or probability rows) over at least 2 classes; sparse class indices
 * are not accepted.
 *
 * @example
 * ```ts
 * model.compile({optimizer: tf.train.adam(1e-3), loss: losses.tauCategoricalCrossentropy({tau: 16}),
 *   metrics: [metrics.categoricalAccuracyFromLogits]});
 * ```
 */
export function tauCategoricalCrossentropy(args: TauArgs): ParametrizedLoss<'tau'> {
  const context = 'tauCategoricalCrossentropy';
  const params = {tau: checkTau(args, context)};
  return withParams(named((yTrue, yPred) => {
    checkLossInputs(yTrue, yPred, context, 2);
    const {tau} = params;
    return tf.tidy(() => withNaNLabels(yTrue, tf.div(tf.neg(tf.sum(tf.mul(tf.cast(yTrue, 'float32'),
      tf.logSoftmax(tf.mul(yPred, tau))), -1)), tau)));
  }, context), params, tauCheck(context));
}

/**
 * The binary hinge with margin: per sample `relu(margin/2 - y f)` with `y = +1` for a label
 * `> 0` and `-1` otherwise (so labels `{0, 1}` and `{-1, 1}` both work), averaged over the
 * last axis: deel-lip's `HingeMargin`. A 1-Lipschitz network with zero hinge loss has every
 * training sample certified at l2 radius `margin / 2`.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.hingeMargin({margin: 0.1})});
 * ```
 */
export function hingeMargin(args: MarginArgs = {}): ParametrizedLoss<'margin'> {
  const context = 'hingeMargin';
  const params = {margin: checkMargin(checkArgsObject(args, 'margin', context), context)};
  return withParams(named((yTrue, yPred) => {
    checkLossInputs(yTrue, yPred, context);
    return tf.tidy(() => withNaNLabels(yTrue, tf.mean(hinge(yTrue, yPred, params.margin), -1)));
  }, context), params, marginCheck(context));
}

/**
 * The multiclass hinge of deel-lip's `MulticlassHinge`: the binary hinge applied to every
 * logit one-vs-all (`+1` for the true class, `-1` for the others), the true class's term
 * weighted by `K - 1` to balance it against the `K - 1` others, averaged over the K classes.
 * Per sample `mean_k w_k relu(margin/2 - s_k f_k)`. Not the Crammer-Singer hinge on
 * `f_true - max_other`.
 *
 * Labels: one-hot rows (`{0, 1}`, or `{-1, 1}`: a value `> 0` marks the true class) over at
 * least 2 classes.
 */
export function multiclassHinge(args: MarginArgs = {}): ParametrizedLoss<'margin'> {
  const context = 'multiclassHinge';
  const params = {margin: checkMargin(checkArgsObject(args, 'margin', context), context)};
  return withParams(named((yTrue, yPred) => {
    checkLossInputs(yTrue, yPred, context, 2);
    return tf.tidy(() => withNaNLabels(yTrue, multiclassHingePerSample(yTrue, yPred, params.margin)));
  }, context), params, marginCheck(context));
}

/**
 * Hinge-Kantorovich-Rubinstein loss, deel-lip's `HKR`: `-KR + alpha * hinge` with, over a
 * batch, `KR = mean(f | positive) - mean(f | negative)` (the Kantorovich-Rubinstein dual of
 * the Wasserstein-1 distance between the classes' distributions when `f` is 1-Lipschitz)
 * and `hinge` the {@link hingeMargin} loss. Labels as {@link hingeMargin}.
 *
 * KR is a batch statistic: the per-sample values (`-batch * f * w + alpha * hinge` with
 * `w = 1/n+` for positives and `-1/n-` for negatives) average to it, which is what `fit`
 * computes. A batch without one of the classes has only the other's mean.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.hkr({alpha: 10, margin: 0.1})});
 * ```
 */
export function hkr(args: HkrArgs): ParametrizedLoss<'alpha' | 'margin'> {
  return hkrLoss(args, 'hkr', 1, (yTrue, yPred, margin) => tf.mean(hinge(yTrue, yPred, margin), -1));
}

/**
 * The multiclass hinge-Kantorovich-Rubinstein loss, deel-lip's `MulticlassHKR`:
 * `-KR + alpha * multiclassHinge`, with KR the one-vs-all Kantorovich-Rubinstein term of
 * every class (`mean(f_k | class k) - mean(f_k | not k)`) averaged over the classes, and the
 * hinge of {@link multiclassHinge}. Labels as {@link multiclassHinge}; the batch statistics
 * as {@link hkr}.
 */
export function multiclassHkr(args: HkrArgs): ParametrizedLoss<'alpha' | 'margin'> {
  return hkrLoss(args, 'multiclassHkr', 2, multiclassHingePerSample);
}

/**
 * `-KR + alpha * hingeTerm` per sample as a loss named `context`, for labels of at least
 * `minUnits` columns: {@link hkr} and {@link multiclassHkr}.
 */
function hkrLoss(args: HkrArgs, context: string, minUnits: number,
    hingeTerm: (yTrue: Tensor, yPred: Tensor, margin: number) => Tensor): ParametrizedLoss<'alpha' | 'margin'> {
  const params = checkHkrArgs(args, context);
  return withParams(named((yTrue, yPred) => {
    checkLossInputs(yTrue, yPred, context, minUnits, true);
    const {alpha, margin} = params;
    return tf.tidy(() => withNaNLabels(yTrue, tf.add(tf.neg(krPerSample(yTrue, yPred)),
      tf.mul(hingeTerm(yTrue, yPred, margin), alpha)), true));
  }, context), params, hkrCheck(context));
}
export {kr, multiclassKr} from './kr_loss.js';
export {tauSparseCategoricalCrossentropy} from './tau_sparse_categorical_crossentropy.js';
export {categoricalHinge} from './categorical_hinge.js';
export type {CategoricalHingeArgs} from './categorical_hinge.js';
export {multiMargin} from './multi_margin.js';
export {multiclassSoftHkr} from './multiclass_soft_hkr.js';
export type {MulticlassSoftHkrArgs, MulticlassSoftHkrLoss} from './multiclass_soft_hkr.js';
export type {ParametrizedLoss} from './loss_params.js';
