/**
 * The proximal TV(2) solver: a `fit` / `fitDataset` callback that, after every optimizer step,
 * applies the proximal operator of `lr * lambda * TV(2)` to every spline layer, so that the
 * knots the penalty removes are exactly 0.
 */
import {ArgumentError} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Logs} from '@tensorflow/tfjs-layers';
import type {Optimizer} from '@tensorflow/tfjs-core';
import {checkArgsObject, checkNonNegative, describe} from '@deepspline/core/internal';
import {attachedModel} from './attached_model.js';
import {splineLayers} from './sparsity.js';
import type {FoundSplineLayer} from './sparsity.js';
import {learningRateOf} from './tfjs_internals.js';

/** Arguments of {@link tv2Prox}. */
export interface TV2ProxArgs {
  /**
   * Weight of the TV(2) penalty, a finite number >= 0: the same `lambda` as
   * `tv2Regularizer({lambda})` (the objective is the batch loss plus `lambda` times the TV(2)
   * of every spline of every layer). The threshold of one step is `lambda` times the
   * optimizer's current learning rate.
   */
  lambda: number;
}

const CONTEXT = 'tv2Prox';

/**
 * Proximal gradient for the TV(2) penalty (ISTA; Beck & Teboulle 2009), as a callback of
 * `model.fit` / `model.fitDataset`: after every batch's optimizer step, every ReLU slope
 * `a_k` of every `SplineActivation` layer (nested models included) is soft-thresholded by
 * `eta * lambda`, `eta` the optimizer's learning rate at that step (read from
 * `model.optimizer.learningRate` every batch, so it follows a schedule that changes it):
 * `a_k <- sign(a_k) max(|a_k| - eta lambda, 0)`, the linear part anchored at `c[0]`, `c[1]`
 * kept (`SplineActivation.softThresholdSlopes`). A knot the threshold does not pass is exactly
 * 0, in the stored float32 coefficients, on every backend: `activeKnots` at threshold 0 counts
 * only the knots that are really there, and `sparsify(model, 0)` changes nothing.
 *
 * Use it *instead of* `tv2Regularizer` (both would count the penalty twice). It reads nothing
 * from the device (works on webgpu) and composes with the other callbacks: put it before a
 * `lipschitzCallback({mode: 'constrain'})`, whose projection then sees the sparse splines (the
 * slope clipping keeps exact zeros exact).
 *
 * Relation to the objective `L + lambda sum TV(2)`, with `L` the mean batch loss: the
 * soft-threshold is the exact proximal operator of `eta lambda sum_k |a_k|` in the coordinates
 * `(c[0], c[1], a)` of each spline. With plain SGD at rate `eta` the gradient step is taken in
 * the coefficients `c`, not in those coordinates, so the pair is a variable-metric proximal
 * gradient step: its zeros are those of a TV(2)-penalized problem of the same `lambda` per
 * unit of step, but it is not exactly ISTA on `L + lambda TV(2)`. With adaptive optimizers
 * (Adam, Adamax, RMSProp, Adagrad, Adadelta) each coefficient's step is `eta` times its own
 * scale, so `eta lambda` is a threshold per unit of the base rate: the useful `lambda` is
 * then far larger than for `tv2Regularizer` (e.g. 1 to 10 for Adam at `eta = 1e-2` on the 2-D
 * benchmark, where `tv2Regularizer` uses 1e-5 to 1e-2). Choose `lambda` on a validation set.
 *
 * @example
 * ```ts
 * await model.fit(xs, ys, {epochs: 30, callbacks: [tv2Prox({lambda: 2})]});
 * console.log(modelActiveKnots(model).total);  // exact non-zero knots
 * ```
 */
export class TV2Prox extends tfl.Callback {
  /** Weight of the TV(2) penalty. */
  readonly lambda: number;
  private layers: FoundSplineLayer[] = [];

  constructor(args: TV2ProxArgs) {
    super();
    checkArgsObject(args, CONTEXT, 'lambda');
    if (args.lambda === undefined) {
      throw new ArgumentError(`${CONTEXT}: expected lambda (a finite number >= 0), got undefined`);
    }
    this.lambda = checkNonNegative('lambda', args.lambda, CONTEXT);
  }

  private layersModel(): tfl.LayersModel {
    return attachedModel(this.model, CONTEXT);
  }

  /**
   * The threshold of the next step, `lambda` times the optimizer's current learning rate.
   * Throws when the model has no optimizer or its learning rate is not a number >= 0.
   */
  threshold(): number {
    const optimizer = this.layersModel().optimizer as Optimizer | undefined;
    if (optimizer == null) {
      throw new ArgumentError(`${CONTEXT}: the model has no optimizer; compile it before fit`);
    }
    const lr = learningRateOf(optimizer);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ArgumentError(`${CONTEXT}: expected the optimizer's learningRate to be a finite number >= 0, ` +
        `got ${describe(lr)}`);
    }
    return lr * this.lambda;
  }

  /** Finds the spline layers; throws when there are none (the callback would do nothing). */
  override async onTrainBegin(_logs?: Logs): Promise<void> {
    this.layers = splineLayers(this.layersModel());
    if (this.layers.length === 0) {
      throw new ArgumentError(`${CONTEXT}: the model has no SplineActivation layer (nested models included); ` +
        `the TV(2) prox acts on spline activations`);
    }
    this.threshold();
  }

  /** The proximal step after the batch's optimizer step. */
  override async onBatchEnd(_batch: number, _logs?: Logs): Promise<void> {
    this.apply(this.threshold());
  }

  /**
   * One proximal step with the given threshold on every spline layer of the model (what
   * `onBatchEnd` does with `threshold()`); for custom training loops.
   */
  apply(threshold: number): void {
    checkNonNegative('threshold', threshold, CONTEXT);
    if (this.layers.length === 0) this.layers = splineLayers(this.layersModel());
    for (const {layer} of this.layers) layer.softThresholdSlopes(threshold);
  }
}

/** Creates a {@link TV2Prox} callback, the proximal TV(2) solver. */
export function tv2Prox(args: TV2ProxArgs): TV2Prox {
  return new TV2Prox(args);
}
