/**
 * Certified robustness as `model.compile({metrics})` metrics, deel-lip's
 * `BinaryProvableRobustAccuracy`, `CategoricalProvableRobustAccuracy`,
 * `BinaryProvableAvgRobustness` and `CategoricalProvableAvgRobustness`
 * (`deel/lip/metrics.py`): per-sample values from the logits and a given Lipschitz constant,
 * which `fit` and `evaluate` average over the data. Their counts follow
 * {@link certifiedAccuracy}'s conventions (a radius `>= epsilon` counts, the first index wins
 * ties, a logit of exactly 0 is negative), so with the same Lipschitz constant they give its
 * numbers, up to float32 rounding of a radius that equals epsilon.
 *
 * A label with a NaN counts as not certified in the accuracies (as tfjs's accuracies) and
 * gives a NaN in the average robustness (as the losses do).
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {checkArgsObject, checkNonNegative, checkPositive, describe} from '@deepspline/core/internal';
import {checkLossInputs, named, withNaNLabels} from './loss_inputs.js';

/** Arguments shared by the four provable-robustness metrics. */
export interface ProvableMetricArgs {
  /**
   * A Lipschitz constant (l2, > 0) of the logit map: the radius of a margin `delta` is
   * `delta / lipConst` for one output, `delta / (c * lipConst)` for several (see
   * `disjointNeurons`). Give {@link lipschitzBound}'s bound, or 1 for a 1-Lipschitz network.
   * @defaultValue 1
   */
  lipConst?: number;
  /**
   * The metric's name: its key in `fit`'s history and `evaluate`'s order (tfjs names a
   * metric after its function). Letters, digits, `-`, `_`, `.`, `/`.
   * @defaultValue the factory's name, e.g. `'categoricalProvableRobustAccuracy'`
   */
  name?: string;
}

/** Argument of the categorical metrics: how the logits' differences are bounded. */
export interface CategoricalProvableArgs {
  /**
   * `true` (deel-lip's default): only each logit is known to be `lipConst`-Lipschitz (e.g. a
   * last `FrobeniusDense` with disjoint neurons), so `f_i - f_j` is `2 lipConst`-Lipschitz.
   * `false`: the whole logit vector is `lipConst`-Lipschitz in l2 (what
   * {@link lipschitzBound} bounds), so `f_i - f_j` is `sqrt(2) lipConst`-Lipschitz, as in
   * {@link certifiedRadius}. `true` is never optimistic; `false` gives the larger, still
   * certified radii when `lipConst` bounds the whole map.
   * @defaultValue true
   */
  disjointNeurons?: boolean;
}

/** Arguments of {@link binaryProvableRobustAccuracy} and {@link categoricalProvableRobustAccuracy}. */
export interface ProvableRobustAccuracyArgs extends ProvableMetricArgs {
  /**
   * The l2 radius (finite, >= 0) at which points are counted.
   * @defaultValue 36/255 (deel-lip's)
   */
  epsilon?: number;
}

/** Arguments of {@link binaryProvableAvgRobustness} and {@link categoricalProvableAvgRobustness}. */
export interface ProvableAvgRobustnessArgs extends ProvableMetricArgs {
  /**
   * `false`: a misclassified point counts radius 0; `true`: it counts its negative margin over
   * the constant (how far it is from being correct).
   * @defaultValue false
   */
  negativeRobustness?: boolean;
}

const DEFAULT_EPSILON = 36 / 255;
const VALID_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/;

interface Resolved {lipConst: number, name: string, epsilon: number, negativeRobustness: boolean, factor: number}

function resolve(args: unknown, context: string, fields: string, multiclass: boolean): Resolved {
  const a = checkArgsObject(args ?? {}, context, fields);
  const lipConst = checkPositive('lipConst', a.lipConst ?? 1, context);
  const name = a.name ?? context;
  if (typeof name !== 'string' || !VALID_NAME.test(name)) {
    throw new ArgumentError(`${context}: expected name to be a string of letters, digits, '-', '_', '.', '/' ` +
      `(tfjs's metric names), got ${describe(a.name)}`);
  }
  for (const key of ['disjointNeurons', 'negativeRobustness']) {
    if (a[key] !== undefined && typeof a[key] !== 'boolean') {
      throw new ArgumentError(`${context}: expected ${key} to be true or false, got ${describe(a[key])}`);
    }
  }
  const epsilon = checkNonNegative('epsilon', a.epsilon ?? DEFAULT_EPSILON, context);
  const pair = (a.disjointNeurons ?? true) ? 2 : Math.SQRT2;
  return {lipConst, name, epsilon, negativeRobustness: a.negativeRobustness === true,
    factor: multiclass ? pair * lipConst : lipConst};
}

/** Per sample: no NaN in the label (`NaN > 0` is false: a NaN must not count as a correct negative). */
const labelled = (yTrue: Tensor) => tf.logicalNot(tf.any(tf.isNaN(yTrue), -1));

/** `[correct, delta]` per sample of one-unit logits: delta = `f` for a positive label, `-f` else. */
function binaryMargins(yTrue: Tensor, yPred: Tensor): [Tensor, Tensor] {
  const positive = tf.greater(tf.reshape(yTrue, [-1]), 0);
  const f = tf.reshape(yPred, [-1]);
  return [tf.logicalAnd(tf.equal(positive, tf.greater(f, 0)), labelled(yTrue)), tf.where(positive, f, tf.neg(f))];
}

/** `[correct, delta]` per sample: argmax (first index wins) vs the label's, `f_true - max_other`. */
function categoricalMargins(yTrue: Tensor, yPred: Tensor): [Tensor, Tensor] {
  const isTrue = tf.greater(yTrue, 0);
  const trueLogit = tf.sum(tf.where(isTrue, yPred, tf.zerosLike(yPred)), -1);
  const otherMax = tf.max(tf.where(isTrue, tf.fill(yPred.shape, -Infinity), yPred), -1);
  return [tf.logicalAnd(tf.equal(tf.argMax(yPred, -1), tf.argMax(yTrue, -1)), labelled(yTrue)),
    tf.sub(trueLogit, otherMax)];
}

function checkBinary(yTrue: Tensor, yPred: Tensor, context: string): void {
  checkLossInputs(yTrue, yPred, context, 1, true);
  if (yPred.shape[1] !== 1) {
    throw new ArgumentError(`${context}: expected one output unit (shape [batch, 1]), got shape [${yPred.shape}]; ` +
      `for several classes use the categorical metric`);
  }
}

function robustAccuracy(r: Resolved, margins: typeof binaryMargins, check: typeof checkBinary, context: string) {
  return named((yTrue, yPred) => {
    check(yTrue, yPred, context);
    return tf.tidy(() => {
      const [correct, delta] = margins(yTrue, yPred);
      return tf.cast(tf.logicalAnd(correct, tf.greaterEqual(tf.div(delta, r.factor), r.epsilon)), 'float32');
    });
  }, r.name);
}

function avgRobustness(r: Resolved, margins: typeof binaryMargins, check: typeof checkBinary, context: string) {
  return named((yTrue, yPred) => {
    check(yTrue, yPred, context);
    return tf.tidy(() => {
      const [correct, delta] = margins(yTrue, yPred);
      // a correct point's delta is >= 0; a misclassified one's <= 0, or a tie lost to a lower index
      const radius = tf.div(delta, r.factor);
      return withNaNLabels(yTrue, r.negativeRobustness ? radius : tf.where(correct, tf.relu(radius), tf.zerosLike(radius)));
    });
  }, r.name);
}

const checkCategorical = (yTrue: Tensor, yPred: Tensor, context: string) =>
  checkLossInputs(yTrue, yPred, context, 2, true);

/**
 * Provable robust accuracy of a one-output classifier, deel-lip's
 * `BinaryProvableRobustAccuracy`: per sample 1 if the logit's sign matches the label (a label
 * `> 0` is positive: `{0, 1}` or `{-1, 1}`; a logit of exactly 0 is negative) and its certified
 * radius `|f| / lipConst` is `>= epsilon` (deel-lip: `>`), else 0. `fit` and `evaluate` report
 * the share; {@link certifiedAccuracy} gives the same at `epsilons: [epsilon]` with `bound:
 * lipConst`.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.hkr({alpha: 10, margin: 0.1}),
 *   metrics: [metrics.binaryProvableRobustAccuracy({epsilon: 0.05})]});
 * ```
 */
export function binaryProvableRobustAccuracy(args: ProvableRobustAccuracyArgs = {}):
    (yTrue: Tensor, yPred: Tensor) => Tensor {
  const context = 'binaryProvableRobustAccuracy';
  return robustAccuracy(resolve(args, context, 'epsilon, lipConst, name', false), binaryMargins, checkBinary, context);
}

/**
 * Provable robust accuracy of a classifier with one logit per class, deel-lip's
 * `CategoricalProvableRobustAccuracy`: per sample 1 if the largest logit (first index on a
 * tie) is the label's (one-hot rows, `{0, 1}` or `{-1, 1}`) and the certified radius
 * `(f_true - max_other) / (c * lipConst)` is `>= epsilon` (deel-lip: `>`), with `c = 2` or
 * `sqrt(2)` by `disjointNeurons`. With `disjointNeurons: false` and `lipConst` the model's
 * bound, the share is {@link certifiedAccuracy}'s at `epsilon`.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.multiclassHkr({alpha: 10, margin: 0.5}),
 *   metrics: [metrics.categoricalProvableRobustAccuracy({epsilon: 36 / 255, disjointNeurons: false})]});
 * ```
 */
export function categoricalProvableRobustAccuracy(args: ProvableRobustAccuracyArgs & CategoricalProvableArgs = {}):
    (yTrue: Tensor, yPred: Tensor) => Tensor {
  const context = 'categoricalProvableRobustAccuracy';
  return robustAccuracy(resolve(args, context, 'epsilon, lipConst, disjointNeurons, name', true), categoricalMargins,
    checkCategorical, context);
}

/**
 * Average certified radius of a one-output classifier, deel-lip's
 * `BinaryProvableAvgRobustness`: per sample `delta / lipConst` with `delta = f` for a positive
 * label and `-f` for a negative one, where a misclassified point counts 0 (or, with
 * `negativeRobustness`, its negative `delta`). The mean of {@link certifiedRadius}'s radii
 * with the misclassified points at 0.
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.hkr({alpha: 10, margin: 0.1}),
 *   metrics: [metrics.binaryProvableAvgRobustness()]});
 * ```
 */
export function binaryProvableAvgRobustness(args: ProvableAvgRobustnessArgs = {}):
    (yTrue: Tensor, yPred: Tensor) => Tensor {
  const context = 'binaryProvableAvgRobustness';
  return avgRobustness(resolve(args, context, 'lipConst, negativeRobustness, name', false), binaryMargins,
    checkBinary, context);
}

/**
 * Average certified radius of a classifier with one logit per class, deel-lip's
 * `CategoricalProvableAvgRobustness`: per sample `(f_true - max_other) / (c * lipConst)`
 * (`c` by `disjointNeurons`), a misclassified point counting 0 (or, with
 * `negativeRobustness`, its negative value).
 *
 * @example
 * ```ts
 * model.compile({optimizer: 'adam', loss: losses.multiclassHkr({alpha: 10, margin: 0.5}),
 *   metrics: [metrics.categoricalProvableAvgRobustness({disjointNeurons: false})]});
 * ```
 */
export function categoricalProvableAvgRobustness(args: ProvableAvgRobustnessArgs & CategoricalProvableArgs = {}):
    (yTrue: Tensor, yPred: Tensor) => Tensor {
  const context = 'categoricalProvableAvgRobustness';
  return avgRobustness(resolve(args, context, 'lipConst, disjointNeurons, negativeRobustness, name', true),
    categoricalMargins, checkCategorical, context);
}
