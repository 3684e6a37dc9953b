/** The `SplineActivation` layer: one learnable linear spline per channel (or one shared). */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor, Tensor1D, Tensor2D} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import {activeKnots, ArgumentError, bv2, clipSlopes, coefficientsFromFunction, linearSpline,
  NonFiniteError, reluSlopes, softThresholdSlopes, sparsifyCoefficients, splineCurves, splineGrid,
  splineKnots, splineLipschitz, tv2} from '@deepspline/core';
import {checkArgsObject, checkFinite, checkInteger, checkNonNegative, describe} from '@deepspline/core/internal';
import type {SplineGrid} from '@deepspline/core';
import {checkInit, namedInit} from './inits.js';
import type {SplineInit} from './inits.js';
import {deferConstraint} from './constraints.js';
import {resolveConstraint, resolveRegularizer, serializeObject} from './serialization.js';
import type {Constraint, Kwargs, LayerArgs, Regularizer} from './tfjs_internals.js';

/**
 * A regularizer that needs the knot spacing of the layer it regularizes (TV(2) and BV(2)
 * do). The layer calls `setSplineGrid` before it creates its weight.
 */
export interface SplineGridConsumer {
  /** Receives the grid of the layer whose coefficients this object will regularize. */
  setSplineGrid(grid: SplineGrid): void;
}

/** Arguments of {@link splineActivation}. */
export interface SplineActivationArgs extends LayerArgs {
  /**
   * Coefficients per spline, an integer >= 3 (odd puts a knot at 0).
   * @defaultValue `21`
   */
  size?: number;
  /**
   * One-sided range `r > 0` of the knots, from `-r` to `r`. Exclusive with `grid`.
   * @defaultValue `2`
   */
  range?: number;
  /** Knot spacing `T > 0` instead of `range` (then `range = T (size - 1) / 2`). */
  grid?: number;
  /**
   * Initial activation: `'leaky_relu'` (slope 0.01), `'relu'`, `'identity'`, `'abs'`,
   * `'even_odd'`, `'softplus'`, `'tanh'`, a function `(x: number) => number` sampled at the
   * knots, or the `size` initial coefficients. tfjs's camel-cased spellings of the names
   * (`'leakyRelu'`, `'evenOdd'`: what a loaded config holds) are accepted too.
   * @defaultValue `'leaky_relu'`
   */
  init?: SplineInit;
  /**
   * One spline shared by every channel (`[1, size]` coefficients).
   * @defaultValue `false`
   */
  shared?: boolean;
  /**
   * Regularizer of the coefficients, e.g. `tv2Regularizer({lambda: 1e-4})` from
   * `@deepspline/lipschitz`: an instance, a name (`'l1l2'` or a registered class name) or
   * `{className, config}`, resolved as tfjs's own layers resolve `kernelRegularizer`.
   */
  coefficientsRegularizer?: Regularizer | string | tf.serialization.ConfigDict;
  /**
   * Constraint of the coefficients, applied to the initial coefficients and by
   * {@link constraintCallback} (add it to `fit`'s callbacks: tfjs's `fit` does not apply weight
   * constraints) or {@link applyConstraints}. Unlike a tfjs weight constraint it is not applied
   * by `setWeights` or when a saved model loads, so loaded weights are exactly the saved ones.
   * An instance, a name (`'nonNeg'`, `'maxNorm'`, ...) or `{className, config}`, as tfjs's
   * `kernelConstraint`.
   */
  coefficientsConstraint?: Constraint | string | tf.serialization.ConfigDict;
  /**
   * When set, the layer evaluates with slope-clipped coefficients (every segment's slope in
   * `[-maxSlope, maxSlope]`), so the activation is `maxSlope`-Lipschitz at every step.
   * Differentiable; the stored weights are unchanged.
   */
  maxSlope?: number;
  /**
   * A learnable scale per activation (Ducotterd et al., JMLR 2024): channel n computes
   * `f_n(x) = sigma_n(s_n x) / s_n`, with `sigma_n` the spline on the layer's grid and
   * `s_n = max(scale_n, SplineActivation.MIN_SCALE)` from a second trainable weight `scale`
   * (`[C]`, `[1]` when shared, initialised to 1), so that each channel learns its own knot
   * spacing: its knots are `t_k / s_n`. Since `f_n'(x) = sigma_n'(s_n x)`, the slopes, the
   * ReLU slopes `a_k`, TV(2), the active knots and the Lipschitz constant of `f_n` are those of
   * `sigma_n`; only the knot positions (and the values, `f_n(t_k / s_n) = c[k] / s_n`) move.
   * @defaultValue `false`
   */
  learnableScale?: boolean;
}

const CONTEXT = 'splineActivation';
/** Coefficients per spline when `size` is not given. */
export const DEFAULT_SIZE = 21;
/** One-sided knot range when neither `range` nor `grid` is given. */
export const DEFAULT_RANGE = 2;
/** Initial activation when `init` is not given. */
const DEFAULT_INIT: SplineInit = 'leaky_relu';

/** `args` if it is an arguments object; checked before `super`, which reads `args.name`. */
function checkArgs(args: unknown): SplineActivationArgs {
  return checkArgsObject(args, CONTEXT) as SplineActivationArgs;
}

/**
 * A layer of learnable linear-spline activations (deep spline networks, Aziznejad et al.
 * 2020). Each channel of the last axis gets its own spline (or one shared spline), with
 * coefficients on a uniform grid of knots, trained with the rest of the model.
 *
 * The first weight `coefficients` has shape `[C, size]`; `coefficients[n][k]` is the value
 * of channel n's spline `sigma_n` at knot `t_k = -range + k * step`. Outside the grid the end
 * segments extend linearly. Without `learnableScale` (the default) `sigma_n` is the layer's
 * function and `coefficients` its only weight. With `learnableScale` a second weight `scale`
 * (`[C]`, or `[1]` when shared) follows, and channel n computes
 * `f_n(x) = sigma_n(s_n x) / s_n`, `s_n = max(scale_n, MIN_SCALE)` (see
 * {@link SplineActivationArgs.learnableScale}): the methods below that describe "the layer's
 * function" describe `f_n`, and those that describe the coefficients describe `sigma_n`.
 */
export class SplineActivation extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'SplineActivation';
  /**
   * The smallest effective scale of `learnableScale`: the layer evaluates with
   * `s = max(scale, MIN_SCALE)`, which keeps `f(x) = sigma(s x) / s` defined and its knots
   * `t_k / s` ordered whatever value training gives the weight (the gradient of `scale` is 0
   * below it).
   */
  static readonly MIN_SCALE = 1e-3;

  /** Coefficients per spline. */
  readonly size: number;
  /** The resolved knot grid. */
  readonly grid: SplineGrid;
  /** Whether one spline is shared by every channel. */
  readonly shared: boolean;
  /** The initial activation (a name is always the canonical snake_case one). */
  readonly init: SplineInit;
  /** Slope bound applied inside `call`, or `undefined`. */
  readonly maxSlope: number | undefined;
  /** The coefficient regularizer, if any. */
  readonly coefficientsRegularizer: Regularizer | undefined;
  /** The coefficient constraint, if any (applied by {@link constraintCallback}). */
  readonly coefficientsConstraint: Constraint | undefined;
  /** Whether the layer has a learnable scale per activation (the `scale` weight). */
  readonly learnableScale: boolean;
  private readonly gridSpec: {range?: number, grid?: number};
  private coefficients: LayerVariable | null = null;
  private scale: LayerVariable | null = null;

  constructor(args: SplineActivationArgs = {}) {
    super(checkArgs(args));
    const size = args.size ?? DEFAULT_SIZE;
    const hasGrid = args.grid != null;
    const range = args.range ?? (hasGrid ? undefined : DEFAULT_RANGE);
    this.grid = splineGrid({size, range, grid: args.grid ?? undefined}, CONTEXT);
    this.gridSpec = hasGrid ? {grid: this.grid.step} : {range: this.grid.range};
    this.size = this.grid.size;
    this.shared = args.shared ?? false;
    if (typeof this.shared !== 'boolean') {
      throw new ArgumentError(`${CONTEXT}: expected shared to be a boolean, got ${describe(args.shared)}`);
    }
    this.learnableScale = args.learnableScale ?? false;
    if (typeof this.learnableScale !== 'boolean') {
      throw new ArgumentError(`${CONTEXT}: expected learnableScale to be a boolean, got ${describe(args.learnableScale)}`);
    }
    this.init = checkInit(args.init ?? DEFAULT_INIT, this.size);
    if (args.maxSlope !== undefined && args.maxSlope !== null) {
      checkFinite('maxSlope', args.maxSlope, CONTEXT);
      if (args.maxSlope <= 0) {
        throw new ArgumentError(`${CONTEXT}: expected maxSlope > 0, got ${describe(args.maxSlope)}`);
      }
      this.maxSlope = args.maxSlope;
    }
    this.coefficientsRegularizer = resolveRegularizer(args.coefficientsRegularizer, CONTEXT);
    this.coefficientsConstraint = resolveConstraint(args.coefficientsConstraint, CONTEXT);
    const consumer = this.coefficientsRegularizer as Partial<SplineGridConsumer> | undefined;
    if (consumer != null && typeof consumer.setSplineGrid === 'function') {
      consumer.setSplineGrid(this.grid);
    }
    this.supportsMasking = true;
    this.inputSpec = [{minNDim: 2}];
  }

  /** Knot spacing `T`. */
  get step(): number { return this.grid.step; }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const last = shape[shape.length - 1];
    if (!this.shared && (last == null || !(last > 0))) {
      throw new ArgumentError(`${CONTEXT} '${this.name}': the last axis of the input (channels) must ` +
        `have a known size unless shared is true; got input shape ${describe(shape)}`);
    }
    const channels = this.shared ? 1 : (last as number);
    this.coefficients = this.addWeight('coefficients', [channels, this.size], 'float32',
      tfl.initializers.zeros(), this.coefficientsRegularizer, true);
    const constraint = this.coefficientsConstraint;
    if (constraint != null) deferConstraint(this.coefficients, constraint);
    const init = tf.tidy(() => {
      const c = this.initialCoefficients(channels);
      return constraint == null ? c : constraint.apply(c);
    });
    this.coefficients.write(init);
    init.dispose();
    if (this.learnableScale) {
      this.scale = this.addWeight('scale', [channels], 'float32', tfl.initializers.ones(), undefined, true);
    }
    if (!this.shared) this.inputSpec = [{minNDim: 2, axes: {[-1]: channels}}];
    this.built = true;
  }

  private initialCoefficients(channels: number): Tensor2D {
    const init = this.init;
    if (Array.isArray(init)) {
      return tf.tile(tf.tensor2d(init, [1, this.size], 'float32'), [channels, 1]) as Tensor2D;
    }
    const fn = typeof init === 'function' ? (x: number) => init(x) :
      (x: number, ch: number) => namedInit(init, ch, channels)(x);
    return coefficientsFromFunction(fn, this.size, this.grid, channels);
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return this.evaluate(x, this.effectiveCoefficients());
    });
  }

  /** The layer's function of `x` with the coefficients `c`: `sigma(s x) / s` with a scale. */
  private evaluate(x: Tensor, c: Tensor2D): Tensor {
    if (this.scale == null) return linearSpline(x, c, this.grid);
    return tf.tidy(() => {
      const s = this.effectiveScale();
      return tf.div(linearSpline(tf.mul(x, s), c, this.grid), s);
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const coefficients = typeof this.init === 'function' ?
      tf.tidy(() => Array.from(this.initialCoefficients(1).dataSync())) : this.init;
    // JSON has no -0 (it writes 0): store +0 so that the config survives a save unchanged.
    const init = Array.isArray(coefficients) ? coefficients.map((v) => (v === 0 ? 0 : v)) :
      coefficients;
    const config: tf.serialization.ConfigDict = {
      size: this.size,
      ...this.gridSpec,
      init,
      shared: this.shared,
      coefficientsRegularizer: serializeObject(this.coefficientsRegularizer) as
        tf.serialization.ConfigDict | null,
      coefficientsConstraint: serializeObject(this.coefficientsConstraint) as
        tf.serialization.ConfigDict | null,
    };
    if (this.maxSlope !== undefined) config.maxSlope = this.maxSlope;
    if (this.learnableScale) config.learnableScale = true;
    return {...super.getConfig(), ...config};
  }

  private weight(): LayerVariable {
    if (this.coefficients == null) {
      throw new ArgumentError(`${CONTEXT} '${this.name}': the layer is not built yet; call it on an ` +
        `input or build its model first`);
    }
    return this.coefficients;
  }

  /**
   * The coefficients the layer evaluates with, `[C, size]`: the weight, slope-clipped when
   * `maxSlope` is set. They are the values of `sigma_n` at the knots of {@link knots}; with
   * `learnableScale` channel n's function takes the values `c[k] / s_n` at its knots
   * `t_k / s_n` (same slopes). The caller disposes the result.
   */
  effectiveCoefficients(): Tensor2D {
    const c = this.weight().read() as Tensor2D;
    return this.maxSlope === undefined ? tf.clone(c) : clipSlopes(c, this.step, this.maxSlope);
  }

  /**
   * The scale each channel evaluates with, `max(scale, MIN_SCALE)`, float32 `[C]` (`[1]` when
   * shared): channel n computes `sigma_n(s_n x) / s_n`. Without `learnableScale`, ones (the
   * layer's function is then `sigma_n` itself). The caller disposes the result.
   */
  effectiveScale(): Tensor1D {
    const c = this.weight();
    if (this.scale == null) return tf.ones([c.shape[0] as number]) as Tensor1D;
    const scale = this.scale;
    return tf.tidy(() => tf.maximum(scale.read(), SplineActivation.MIN_SCALE) as Tensor1D);
  }

  private withCoefficients<T>(f: (c: Tensor2D) => T): T {
    const c = this.effectiveCoefficients();
    try { return f(c); } finally { c.dispose(); }
  }

  /**
   * The knots of the layer's grid, `t_k = -range + k * step`, `[size]`: the knots of the
   * splines `sigma_n` of the coefficients. They are the knots of the layer's function unless
   * `learnableScale` moves them (to `t_k / s_n`: see {@link channelKnots}).
   */
  knots(): Tensor1D { return splineKnots(this.size, this.grid); }
  /**
   * The knots of each channel's function, `[C, size]`: `t_k / s_n` with the
   * {@link effectiveScale} `s_n` (float32 quotients), which is every row equal to
   * {@link knots} without `learnableScale`.
   */
  channelKnots(): Tensor2D {
    return tf.tidy(() => tf.div(tf.reshape(this.knots(), [1, this.size]),
      tf.reshape(this.effectiveScale(), [-1, 1])) as Tensor2D);
  }
  /**
   * ReLU slopes at the inner knots, `[C, size - 2]`: the slope changes of the layer's function
   * (a scale moves the knots, not the slope changes).
   */
  reluSlopes(): Tensor2D { return this.withCoefficients((c) => reluSlopes(c, this.step)); }
  /** TV(2) of each channel's function, `[C]` (a scale does not change it). */
  tv2(): Tensor1D { return this.withCoefficients((c) => tv2(c, this.step)); }
  /**
   * BV(2) of each channel's function (reference definition), `[C]`:
   * `TV2 + |f(0)| + |f(1)|`. With `learnableScale` that is `TV2 + |sigma(0)| / s +
   * |sigma(s)| / s`, the BV(2) of the function the layer computes, still an upper bound of
   * its Lipschitz constant.
   */
  bv2(): Tensor1D {
    if (this.scale == null) return this.withCoefficients((c) => bv2(c, this.grid));
    return this.withCoefficients((c) => tf.tidy(() => {
      const channels = c.shape[0];
      const values = this.evaluate(tf.concat([tf.zeros([1, channels]), tf.ones([1, channels])], 0), c);
      return tf.add(tv2(c, this.step), tf.sum(tf.abs(values), 0)) as Tensor1D;
    }));
  }
  /** Exact Lipschitz constant of each channel's function, `[C]` (a scale does not change it). */
  lipschitz(): Tensor1D { return this.withCoefficients((c) => splineLipschitz(c, this.step)); }
  /**
   * Active knots per channel (`|a_k| > threshold`), int32 `[C]` (a scale does not change
   * them).
   */
  activeKnots(threshold = 0): Tensor1D {
    return this.withCoefficients((c) => activeKnots(c, this.step, threshold));
  }
  /**
   * The layer's function of every channel sampled on `numPoints` equally spaced points over
   * the grid widened by `margin` spacings on each side: `x` `[numPoints]`, `y` `[C, numPoints]`,
   * `y[n][i] = f_n(x[i])`. With `learnableScale` the interval spans every channel's widened
   * grid, `[min_n (t_0 - margin T) / s_n, max_n (t_{K-1} + margin T) / s_n]`. For plotting.
   */
  curves(numPoints = 201, margin = 1): {x: Tensor1D, y: Tensor2D} {
    if (this.scale == null) return this.withCoefficients((c) => splineCurves(c, this.grid, numPoints, margin));
    const context = `${CONTEXT} '${this.name}': curves`;
    checkInteger('numPoints', numPoints, 2, context);
    checkNonNegative('margin', margin, context);
    const s = this.effectiveScale();
    const scales = Array.from(s.dataSync());
    s.dispose();
    const lo = Math.min(...scales.map((v) => (this.grid.start - margin * this.step) / v));
    const hi = Math.max(...scales.map((v) => (this.grid.start + (this.size - 1 + margin) * this.step) / v));
    return this.withCoefficients((c) => tf.tidy(() => {
      const x = tf.linspace(lo, hi, numPoints) as Tensor1D;
      const xs = tf.tile(tf.reshape(x, [numPoints, 1]), [1, c.shape[0]]);
      return {x, y: tf.transpose(this.evaluate(xs, c)) as Tensor2D};
    }));
  }

  /**
   * A copy of the stored coefficients, `[C, size]` (before any `maxSlope` clipping: see
   * {@link effectiveCoefficients}). The caller disposes the result.
   */
  getCoefficients(): Tensor2D {
    return tf.clone(this.weight().read() as Tensor2D);
  }

  /**
   * Replaces the stored coefficients by `coefficients`, a float32 tensor (or nested array) of
   * the weight's shape `[C, size]` with finite values. Like `setWeights`, the constraint is
   * not applied. The layer keeps its own copy: the caller still owns `coefficients`.
   */
  setCoefficients(coefficients: Tensor2D | number[][]): void {
    const w = this.weight();
    const context = `${CONTEXT} '${this.name}': setCoefficients`;
    const isTensor = coefficients instanceof tf.Tensor;
    if (!isTensor && !Array.isArray(coefficients)) {
      throw new ArgumentError(`${context} expected a float32 tensor or an array of shape ` +
        `[${w.shape}], got ${describe(coefficients)}`);
    }
    const c = isTensor ? coefficients : tf.tensor(coefficients as number[][]);
    try {
      if (c.dtype !== 'float32' || c.shape.length !== 2 || c.shape.some((d, i) => d !== w.shape[i])) {
        throw new ArgumentError(`${context} expected float32 coefficients of shape [${w.shape}], got a ` +
          `${c.dtype} tensor of shape [${c.shape}]`);
      }
      const v = c.dataSync();
      const bad = v.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        throw new NonFiniteError(`${context} expected finite coefficients, got ${v[bad]} at ` +
          `[${Math.floor(bad / this.size)}, ${bad % this.size}]`);
      }
      this.writeCoefficients(c as Tensor2D);
    } finally {
      if (!isTensor) c.dispose();
    }
  }

  /**
   * Clips the stored coefficients in place so that every segment's slope is in
   * `[-maxSlope, maxSlope]` (core's `clipSlopes`: each spline's mean is kept, and the float32
   * result's exact slopes are `<= maxSlope`). Afterwards the spline is `maxSlope`-Lipschitz.
   * `maxSlope` is a finite number >= 0.
   */
  clipSlopes(maxSlope: number): void {
    const context = `${CONTEXT} '${this.name}': clipSlopes`;
    checkNonNegative('maxSlope', maxSlope, context);
    const w = this.weight();
    this.writeCoefficients(clipSlopes(w.read() as Tensor2D, this.step, maxSlope), true);
  }

  /**
   * Removes every knot with `|a_k| <= threshold` from the stored coefficients (keeping
   * `c[0]`, `c[1]`). `threshold = 0` changes nothing. Returns the number of knots kept, summed
   * over channels. The rebuild is computed in float64 and rounded once to float32, so the
   * removed knots' slopes are at float32 rounding level of the coefficients (count them at a
   * threshold, not at 0).
   */
  sparsify(threshold: number): number {
    const w = this.weight();
    const kept = tf.tidy(() => tf.sum(activeKnots(w.read() as Tensor2D, this.step, threshold))
      .arraySync() as number);
    this.writeCoefficients(sparsifyCoefficients(w.read() as Tensor2D, this.step, threshold), true);
    return kept;
  }

  /**
   * The proximal step of `threshold * TV(2)` on the stored coefficients, in place: every ReLU
   * slope is soft-thresholded, `a_k <- sign(a_k) max(|a_k| - threshold, 0)`, keeping `c[0]`,
   * `c[1]` (core's `softThresholdSlopes`); the slopes the threshold does not pass become
   * exactly 0. Pure tensor operations (no read). What `tv2Prox` of `@deepspline/lipschitz`
   * calls after every optimizer step. `threshold` is a finite number >= 0.
   */
  softThresholdSlopes(threshold: number): void {
    checkNonNegative('threshold', threshold, `${CONTEXT} '${this.name}': softThresholdSlopes`);
    const w = this.weight();
    this.writeCoefficients(softThresholdSlopes(w.read() as Tensor2D, this.step, threshold), true);
  }

  /** Writes `c` into the weight (no constraint, as `setWeights`); disposes it if `owned`. */
  private writeCoefficients(c: Tensor2D, owned = false): void {
    try { this.weight().write(c); } finally { if (owned) c.dispose(); }
  }
}

tf.serialization.registerClass(SplineActivation);

/**
 * Creates a {@link SplineActivation} layer.
 *
 * @example
 * ```ts
 * const model = tf.sequential({layers: [
 *   tf.layers.dense({units: 16, inputShape: [2]}),
 *   splineActivation({size: 21, range: 1}),
 *   tf.layers.dense({units: 1}),
 * ]});
 * ```
 */
export function splineActivation(args: SplineActivationArgs = {}): SplineActivation {
  return new SplineActivation(args);
}
