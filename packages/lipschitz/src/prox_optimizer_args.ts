/** The arguments of the proximal TV(2) solver `tv2ProximalOptimizer`, and their checks. */
import {ArgumentError} from '@deepspline/core';
import {checkFinite, describe} from '@deepspline/core/internal';

const CONTEXT = 'tv2ProximalOptimizer';

/** Arguments of {@link tv2ProximalOptimizer}. */
export interface TV2ProximalOptimizerArgs {
  /**
   * Weight of the TV(2) penalty, a finite number >= 0: the same `lambda` as
   * `tv2Regularizer({lambda})` (the objective is the batch loss plus `lambda` times the TV(2)
   * of every spline of every layer). 0 turns the prox off: the wrapper is then a separate
   * learning rate for the spline coefficients, and the splines may keep a `tv2Regularizer`.
   */
  lambda: number;
  /**
   * Spline learning rate as a multiple of the wrapped optimizer's current `learningRate`
   * (default 1; on the 2-D benchmark's s_shape at lambda 0, mean validation accuracy over 3
   * seeds for 0.3 / 1 / 3 / 10: 93.2 / 94.3 / 94.7 / 93.2 %), so that a schedule that sets `learningRate` moves both.
   */
  splineLearningRateFactor?: number;
  /**
   * The coordinates of Adam's step and metric (default `'values'`). `'values'`: Adam on the
   * coefficients `c` (as any other weight), then each `a_k` soft-thresholded by
   * `lambda (D[k-1] + 4 D[k] + D[k+1]) / T^2`, `D = eta / (sqrt(v_hat) + eps)` (the diagonal of
   * the metric's image in `a`, an approximation of the prox, which is not separable in `a` in
   * that metric), and the unpenalized linear part of the change chosen in the same metric: the
   * removed slope is taken out together with the affine function `alpha + beta k` that
   * minimizes `sum_k (change of c[k])^2 / D[k]`, so that a knot removed where the loss does not
   * look (large `D`: no data) does not tilt the spline where it does. `'relu'`: Adam in `u = (c[0], c[1], a)` and the exact prox of the diagonal
   * metric, `a_k` soft-thresholded by `eta lambda / (sqrt(v_hat_k) + eps)`.
   */
  metric?: 'values' | 'relu';
  /**
   * Spline steps at the start of training without the penalty (default 0): the prox's
   * threshold is 0 for the first `warmupSteps` steps, then rises linearly to `lambda` over
   * `rampSteps`. Adam's second moments start small, so the threshold, which divides by
   * them, is largest in the first steps, where it can remove every knot of a layer before the
   * net has learned anything (a net left with linear splines is stuck: measured on the 2-D
   * benchmark's s_shape, seed 0, lambda 3e-4: every knot of the first layer gone in the first
   * epoch, 76 % accuracy, the constant classifier's).
   */
  warmupSteps?: number;
  /**
   * Spline steps over which the threshold rises linearly from 0 to `lambda` after
   * `warmupSteps` (default 0: the full `lambda` at once). Spline step `s` (0-based, counted by
   * this optimizer) uses `lambda * clamp((s - warmupSteps + 1) / rampSteps, 0, 1)`.
   */
  rampSteps?: number;
  /**
   * Spline steps after which the zero pattern is frozen and the penalty is dropped (default:
   * never), a debiasing refit as after a lasso: from spline step `refitAfterSteps` (0-based) on,
   * a knot that is exactly 0 when the refit begins stays exactly 0 (threshold infinity) and
   * every other knot takes the plain Adam step (threshold 0, no shrinkage), the affine part of
   * a frozen knot's change chosen in the metric as before. The l1 penalty biases every kept
   * slope towards 0 by `lambda` (at the prox's fixed point the loss gradient of a kept slope is
   * `lambda` in size); the refit fits the kept knots to the loss alone. Give it the step of
   * the schedule's first learning-rate decay, say, so that the pattern is found at the large
   * rate and refitted at the small ones.
   */
  refitAfterSteps?: number;
  /** Adam's first-moment decay for the spline coordinates (default 0.9). */
  beta1?: number;
  /** Adam's second-moment decay for the spline coordinates (default 0.999). */
  beta2?: number;
  /** Adam's epsilon for the spline coordinates (default 1e-8, PyTorch's). */
  epsilon?: number;
}

/** `value` if it is an integer >= 0. */
export function checkSteps(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new ArgumentError(`${CONTEXT}: expected ${name} to be an integer >= 0, got ${describe(value)}`);
  }
  return value;
}

/** `value` if it is a finite number in [0, 1). */
export function checkBeta(name: string, value: number): number {
  checkFinite(name, value, CONTEXT);
  if (value < 0 || value >= 1) throw new ArgumentError(`${CONTEXT}: expected ${name} in [0, 1), got ${describe(value)}`);
  return value;
}
