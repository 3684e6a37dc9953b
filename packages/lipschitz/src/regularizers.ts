/**
 * TV(2) and BV(2) regularizers of spline coefficients (`@deepspline/core` README,
 * "Semantics"), as real tfjs-layers `Regularizer` subclasses registered for serialization.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Scalar, Tensor, Tensor2D} from '@tensorflow/tfjs-core';
import {CONSTRAINT_BASE, layerFields, REGULARIZER_BASE} from '@deepspline/layers/internal';
import {ArgumentError, bv2, tv2} from '@deepspline/core';
import {checkArgsObject, checkNonNegative, describe} from '@deepspline/core/internal';
import type {SplineGrid} from '@deepspline/core';
import type {SplineGridConsumer} from '@deepspline/layers';

/** The regularizer and constraint arguments of tfjs's Dense and Conv layers. */
const WEIGHT_OPTIONS: Array<[string, abstract new () => object, string]> = [
  ['kernelRegularizer', REGULARIZER_BASE, 'regularizer'], ['biasRegularizer', REGULARIZER_BASE, 'regularizer'],
  ['activityRegularizer', REGULARIZER_BASE, 'regularizer'], ['kernelConstraint', CONSTRAINT_BASE, 'constraint'],
  ['biasConstraint', CONSTRAINT_BASE, 'constraint'],
];

/**
 * Throws unless every regularizer and constraint that tfjs resolved for `layer` (a Dense or
 * Conv subclass) from `args` is one: tfjs accepts any registered class (`{className:
 * 'Dense'}`, a constraint as a regularizer) and fails only in `fit` ("variableGrads ...
 * scalar").
 */
export function checkWeightOptions(layer: tfl.layers.Layer, args: object, context: string): void {
  for (const [key, base, kind] of WEIGHT_OPTIONS) {
    const resolved = layerFields<Record<string, unknown>>(layer)[key];
    if (resolved != null && !(resolved instanceof base)) {
      const made = (resolved as {getClassName?: () => string}).getClassName?.() ?? describe(resolved);
      throw new ArgumentError(`${context}: expected ${key} to be a ${kind} (an instance, a name or ` +
        `{className, config}), got ${describe((args as Record<string, unknown>)[key])}, which ` +
        `makes a ${made}, not a ${kind}`);
    }
  }
}

/** Weight of the penalty when `lambda` is not given. */
const DEFAULT_LAMBDA = 1e-4;

/** Arguments of {@link tv2Regularizer} and {@link bv2Regularizer}. */
export interface SplineRegularizerArgs {
  /**
   * Weight of the penalty, a finite number >= 0.
   * @defaultValue `1e-4`
   */
  lambda?: number;
}

function checkLambda(args: SplineRegularizerArgs | undefined, context: string): number {
  if (args != null) checkArgsObject(args, context, 'lambda');
  const lambda = args?.lambda ?? DEFAULT_LAMBDA;
  checkNonNegative('lambda', lambda, context);
  return lambda;
}

function sameGrid(a: SplineGrid, b: SplineGrid): boolean {
  return a.size === b.size && a.start === b.start && a.step === b.step;
}

/**
 * Base class of {@link TV2Regularizer} and {@link BV2Regularizer}: a tfjs-layers `Regularizer`
 * with the penalty weight `lambda` and the knot grid handed over by the `SplineActivation`
 * layer it is attached to.
 */
export abstract class SplineRegularizer extends REGULARIZER_BASE implements SplineGridConsumer {
  /** Weight of the penalty. */
  readonly lambda: number;
  private gridValue: SplineGrid | undefined;

  /** Name used in error messages (`'tv2Regularizer'` or `'bv2Regularizer'`). */
  protected readonly context: string;

  protected constructor(args: SplineRegularizerArgs | undefined, context: string) {
    super();
    this.context = context;
    this.lambda = checkLambda(args, context);
  }

  /**
   * Receives the knot grid of the layer this regularizer is attached to; `SplineActivation`
   * calls it before creating its weight. One instance may serve several layers only if they
   * share the same grid.
   */
  setSplineGrid(grid: SplineGrid): void {
    if (grid == null || typeof grid !== 'object' || !(grid.step > 0) || !Number.isFinite(grid.start)) {
      throw new ArgumentError(`${this.context}: expected a spline grid {size, range, start, step}, got ${describe(grid)}`);
    }
    if (this.gridValue != null && !sameGrid(this.gridValue, grid)) {
      throw new ArgumentError(`${this.context}: this regularizer is already attached to a layer with grid ` +
        `${describe(this.gridValue)}; it cannot also serve grid ${describe(grid)}. Create one ` +
        `regularizer per layer.`);
    }
    this.gridValue = {...grid};
  }

  /** The grid set by the layer, or `undefined` before the regularizer is attached. */
  get grid(): SplineGrid | undefined { return this.gridValue; }

  /** The grid, after checking that it is set and that `x` is `[C, size]` coefficients. */
  protected requireGrid(x: Tensor): SplineGrid {
    if (this.gridValue == null) {
      throw new ArgumentError(`${this.context}: the regularizer has no spline grid; use it as the ` +
        `coefficientsRegularizer of a splineActivation layer (the layer sets the grid), or call ` +
        `setSplineGrid(grid) first`);
    }
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== this.gridValue.size) {
      const what = x instanceof tf.Tensor ? `a tensor of shape [${x.shape}]` : describe(x);
      throw new ArgumentError(`${this.context}: expected coefficients of shape [C, ${this.gridValue.size}], got ${what}`);
    }
    return this.gridValue;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {lambda: this.lambda};
  }
}

/**
 * `lambda * sum_n TV2(sigma_n)`: the second-order total variation of every spline, summed
 * over channels, with `TV2 = sum_k |c[k-1] - 2 c[k] + c[k+1]| / T` (T = the layer's knot
 * spacing). Promotes activations with few active knots (the paper's regularizer).
 */
export class TV2Regularizer extends SplineRegularizer {
  /** Class name used for serialization. */
  static className = 'TV2';

  constructor(args?: SplineRegularizerArgs) { super(args, 'tv2Regularizer'); }

  /** The penalty for coefficients `[C, K]`, a scalar. */
  apply(x: Tensor): Scalar {
    const grid = this.requireGrid(x);
    return tf.tidy(() => tf.mul(this.lambda, tf.sum(tv2(x as Tensor2D, grid.step))) as Scalar);
  }
}

tf.serialization.registerClass(TV2Regularizer);

/**
 * `lambda * sum_n BV2(sigma_n)` with the reference's `BV2 = TV2 + |sigma(0)| + |sigma(1)|`
 * (uses the layer's grid start and spacing).
 */
export class BV2Regularizer extends SplineRegularizer {
  /** Class name used for serialization. */
  static className = 'BV2';

  constructor(args?: SplineRegularizerArgs) { super(args, 'bv2Regularizer'); }

  /** The penalty for coefficients `[C, K]`, a scalar. */
  apply(x: Tensor): Scalar {
    const grid = this.requireGrid(x);
    return tf.tidy(() => tf.mul(this.lambda, tf.sum(bv2(x as Tensor2D, grid))) as Scalar);
  }
}

tf.serialization.registerClass(BV2Regularizer);

/**
 * The TV(2) regularizer, for
 * `splineActivation({coefficientsRegularizer: tv2Regularizer({lambda})})` (named like
 * tfjs's `l1l2` factory beside its `L1L2` class; `tv2` of `@deepspline/core` is the math).
 *
 * @example
 * ```ts
 * const act = splineActivation({size: 21, range: 1,
 *   coefficientsRegularizer: tv2Regularizer({lambda: 1e-4})});
 * ```
 */
export function tv2Regularizer(args?: SplineRegularizerArgs): TV2Regularizer {
  return new TV2Regularizer(args);
}

/** The BV(2) regularizer (reference definition), used like {@link tv2Regularizer}. */
export function bv2Regularizer(args?: SplineRegularizerArgs): BV2Regularizer {
  return new BV2Regularizer(args);
}
