/**
 * `certifiedAccuracy`: the share of points classified correctly with a certified radius of at
 * least each epsilon, from {@link certifiedRadius} and the labels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {ArgumentError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import {certify, checkOptions, checkPoints} from './certify.js';
import type {CertifiedRadius, CertifiedRadiusOptions} from './certify.js';
import {runAsync, runSync} from './reads.js';
import type {TensorReads} from './reads.js';
/** Options of {@link certifiedAccuracy}. */
export interface CertifiedAccuracyOptions extends CertifiedRadiusOptions {
  /**
   * The radii at which to count certified points (finite, >= 0).
   * @defaultValue `[0, 0.05, 0.1]`
   */
  epsilons?: number[];
}

/** Result of {@link certifiedAccuracy}. */
export interface CertifiedAccuracy {
  /** The radii. */
  epsilons: number[];
  /**
   * Per epsilon: the share of points correctly classified with certified radius >= epsilon
   * (in [0, 1]). At epsilon 0 this is the clean accuracy.
   */
  accuracy: number[];
  /** The share of correctly classified points. */
  cleanAccuracy: number;
  /** The per-point radii, predictions and margins behind it. */
  radii: CertifiedRadius;
  /** Per point: whether its prediction is correct. */
  correct: boolean[];
}

const ACC_CONTEXT = 'certifiedAccuracy';

function checkLabels(y: unknown, batch: number, context: string): Tensor {
  if (!(y instanceof tf.Tensor)) {
    throw new ArgumentError(`${context}: expected labels y as a tensor, got ${describe(y)}`);
  }
  if (y.shape[0] !== batch) {
    throw new ArgumentError(`${context}: expected ${batch} labels (one per point), got y of shape ${describe(y.shape)}`);
  }
  return y;
}

function* labelsOf(y: Tensor, batch: number, classes: number, context: string): TensorReads<number[]> {
  const perRow = y.size / batch;
  const data = yield y;
  if (perRow === 1) {  // class indices, or {0,1} / {-1,1} for one output unit
    if (classes === 1) {
      const bad = data.findIndex((v) => v !== 0 && v !== 1 && v !== -1);
      if (bad >= 0) {
        throw new ArgumentError(`${context}: expected binary labels 0 or 1 (or -1 or 1); label ${bad} is ${describe(data[bad])}`);
      }
      return Array.from(data, (v) => (v > 0 ? 1 : 0));
    }
    const out = Array.from(data);
    if (out.some((v) => !Number.isInteger(v) || v < 0 || v >= classes)) {
      throw new ArgumentError(`${context}: expected class indices in 0..${classes - 1}, got ${describe(out)}`);
    }
    return out;
  }
  if (perRow !== classes) {
    throw new ArgumentError(`${context}: expected one-hot labels of shape [${batch}, ${classes}] or class indices ` +
      `[${batch}], got y of shape ${describe(y.shape)}`);
  }
  const out: number[] = [];
  for (let b = 0; b < batch; ++b) {
    const row = Array.from(data.subarray(b * classes, (b + 1) * classes));
    const top = Math.max(...row);
    // an all-zero row (or a tie, or NaN) names no class: it must not silently become class 0
    if (!(top > 0) || row.some((v) => Number.isNaN(v)) || row.filter((v) => v === top).length !== 1) {
      throw new ArgumentError(`${context}: expected one-hot label rows with one largest entry > 0; row ${b} is ${describe(row)}`);
    }
    out.push(row.indexOf(top));
  }
  return out;
}

/**
 * Certified accuracy of a classifier: for every epsilon, the share of the points `x` that are
 * correctly classified (against labels `y`: one-hot rows, class indices, or for one output
 * unit 0/1 or -1/1) with a certified radius (see {@link certifiedRadius}) of at least
 * epsilon. A label row names its class by one largest entry > 0 (soft labels work); a row
 * that names none (all zeros, a tie, NaN) and binary labels other than 0, 1, -1 are errors
 * naming the row. Radii come from `L`, the certified bound of the logit map in `norm`.
 *
 * @example
 * ```ts
 * const {accuracy} = certifiedAccuracy(model, xTest, yTest, {epsilons: [0, 0.05, 0.1]});
 * ```
 */
export function certifiedAccuracy(model: tfl.LayersModel, x: Tensor, y: Tensor,
    options: CertifiedAccuracyOptions = {}): CertifiedAccuracy {
  return runSync(accuracyReads(model, x, y, options, ACC_CONTEXT));
}

/**
 * {@link certifiedAccuracy} with asynchronous reads (`await data()`, never `dataSync()`), as
 * {@link certifiedRadiusAsync}. Do not train while the promise is pending.
 *
 * @example
 * ```ts
 * const {accuracy} = await certifiedAccuracyAsync(model, xTest, yTest);
 * ```
 */
export async function certifiedAccuracyAsync(model: tfl.LayersModel, x: Tensor, y: Tensor,
    options: CertifiedAccuracyOptions = {}): Promise<CertifiedAccuracy> {
  return runAsync(accuracyReads(model, x, y, options, 'certifiedAccuracyAsync'));
}

function* accuracyReads(model: tfl.LayersModel, x: Tensor, y: Tensor, options: CertifiedAccuracyOptions,
    context: string): TensorReads<CertifiedAccuracy> {
  const opts = checkOptions(options, context);
  const epsilons = (opts as CertifiedAccuracyOptions).epsilons ?? [0, 0.05, 0.1];
  if (!Array.isArray(epsilons) || epsilons.length === 0 ||
      epsilons.some((e) => typeof e !== 'number' || !Number.isFinite(e) || e < 0)) {
    throw new ArgumentError(`${context}: expected epsilons as a non-empty array of finite numbers >= 0, got ` +
      `${describe(epsilons)}`);
  }
  const radii = yield* certify(model, checkPoints(x, context), opts, context);
  const batch = radii.radius.length;
  const classes = (model.outputs[0]!.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const labels = yield* labelsOf(checkLabels(y, batch, context), batch, classes, context);
  const correct = radii.predicted.map((p, i) => p === labels[i]);
  const accuracy = epsilons.map((e) =>
    correct.reduce((n, ok, i) => n + (ok && radii.radius[i]! >= e ? 1 : 0), 0) / batch);
  return {epsilons: epsilons.slice(), accuracy, cleanAccuracy: correct.filter(Boolean).length / batch, radii, correct};
}
