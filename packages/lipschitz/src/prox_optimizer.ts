/**
 * The proximal Adam TV(2) solver: an optimizer wrapper that trains the spline coefficients by
 * Adam in the ReLU coordinates `(c[0], c[1], a)` followed by the exact proximal step of the
 * TV(2) penalty in Adam's diagonal metric, and hands every other variable to any tfjs optimizer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {NamedTensorMap, Tensor, Tensor2D, Variable} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {ArgumentError, softThresholdSlopes} from '@deepspline/core';
import {checkArgsObject, checkNonNegative, checkPositive, describe} from '@deepspline/core/internal';
import {isLayersModel, isSplineLayer} from '@deepspline/layers';
import type {SplineActivation} from '@deepspline/layers';
import {TV2Regularizer} from './regularizers.js';
import {metricAffine} from './prox_affine.js';
import {splineLayers} from './sparsity.js';
import {learningRateOf, registeredVariable, setLearningRate} from './tfjs_internals.js';
import {checkBeta, checkSteps} from './prox_optimizer_args.js';
import type {TV2ProximalOptimizerArgs} from './prox_optimizer_args.js';

const CONTEXT = 'tv2ProximalOptimizer';

/**
 * A spline variable's Adam moments and, once the refit has begun, its per-knot thresholds of
 * the refit (infinity at the knots that were 0 when it began, 0 elsewhere).
 */
interface Moments { m: Variable; v: Variable; frozen?: Variable; }

/** A named tensor, as tfjs optimizers take and return them. */
/** tfjs's `NamedTensor` (not exported by tfjs-core's index), written out in signatures. */
type Named = {name: string, tensor: Tensor};

/**
 * Proximal Adam for the TV(2) penalty, as a `tf.Optimizer` for `model.compile({optimizer})`
 * (`fit`, `fitDataset`, or `optimizer.minimize` in a custom loop).
 *
 * Every gradient of a `SplineActivation` layer's coefficients `c` (`[C, K]`) is moved to the
 * coordinates `u = (c[0], c[1], a_1 .. a_{K-2})` of the "Semantics" ReLU basis
 * (`c[k] = c[0] + k (c[1] - c[0]) + T sum_{j<k} (k - j) a_j`, so `g_u = M^T g_c`, two
 * reverse cumulative sums), where the wrapper keeps Adam moments `m`, `v` and takes the step
 * `u <- u - eta m_hat / (sqrt(v_hat) + eps)` with `eta = splineLearningRateFactor *
 * learningRate`, followed by the proximal operator of `lambda sum_k |a_k|` in Adam's diagonal
 * metric, which is exact because the penalty is separable in `a`:
 * `a_k <- sign(a_k) max(|a_k| - eta lambda / (sqrt(v_hat_k) + eps), 0)`. The coefficients
 * are rebuilt by core's `softThresholdSlopes` (per-knot thresholds), so a removed knot is
 * exactly 0 in the float32 coefficients on every backend. A knot survives where its loss
 * gradient beats `lambda` (the l1 optimality condition), not by the sign noise of a step.
 * Every other variable goes to `optimizer` (any tfjs optimizer), unchanged, including the
 * `scale` of a spline layer with `learnableScale`.
 *
 * Why a wrapper and not a callback: the step in the ReLU coordinates and the per-knot
 * threshold need the spline coefficients' gradient, which only the optimizer sees. For a
 * threshold by `lambda * learningRate` after any optimizer's own step, see `tv2Prox`.
 *
 * Use it *instead of* `tv2Regularizer` on the splines (the penalty would count twice: a
 * spline layer with a `TV2Regularizer` is an error while `lambda > 0`). With `lambda: 0` it is
 * a separate learning rate for the spline coefficients (Adam at `splineLearningRateFactor *
 * learningRate`, no prox), and then a `tv2Regularizer` may stay in the loss: TV(2) by its
 * subgradient, at the splines' own learning rate. `maxSlope` composes (the forward clips;
 * the prox acts on the stored coefficients), as do `lipschitzCallback({mode: 'constrain'})`
 * and saving the model. Frozen spline layers get no gradient and are left alone.
 *
 * @example
 * ```ts
 * model.compile({loss: 'binaryCrossentropy',
 *   optimizer: tv2ProximalOptimizer(model, tf.train.adam(1e-2), {lambda: 1e-3})});
 * await model.fit(xs, ys, {epochs: 30});
 * console.log(modelActiveKnots(model).total);  // exact non-zero knots
 * ```
 */
export class TV2ProximalOptimizer extends tf.Optimizer {
  /** Class name for tfjs serialization. */
  static get className(): string { return 'TV2ProximalOptimizer'; }
  /** The optimizer of every variable but the spline coefficients. */
  readonly optimizer: tf.Optimizer;
  private lambdaValue = 0;
  /** Spline learning rate as a multiple of `learningRate`. */
  readonly splineLearningRateFactor: number;
  /** The coordinates of the spline step and metric. */
  readonly metric: 'values' | 'relu';
  /** Spline steps without the penalty at the start. */
  readonly warmupSteps: number;
  /** Spline steps of the linear rise of the threshold after `warmupSteps`. */
  readonly rampSteps: number;
  /** Spline steps after which the zero pattern is frozen and the penalty dropped (`Infinity`: never). */
  readonly refitAfterSteps: number;
  /** Adam's first-moment decay for the spline coordinates. */
  readonly beta1: number;
  /** Adam's second-moment decay for the spline coordinates. */
  readonly beta2: number;
  /** Adam's epsilon for the spline coordinates. */
  readonly epsilon: number;
  /**
   * Weight of the TV(2) penalty, a finite number >= 0. It may be changed between steps (a
   * schedule, or a slider as in the docs' demo); the next step's threshold uses the new value.
   */
  get lambda(): number { return this.lambdaValue; }
  /** Sets the weight of the TV(2) penalty for the next steps (a finite number >= 0). */
  set lambda(value: number) { this.lambdaValue = checkNonNegative('lambda', value, CONTEXT); }
  private readonly source: tfl.LayersModel | SplineActivation[];
  private readonly moments = new Map<string, Moments>();
  private splineSteps = 0;

  constructor(model: tfl.LayersModel | SplineActivation[], optimizer: tf.Optimizer,
      args: TV2ProximalOptimizerArgs) {
    super();
    if (!isLayersModel(model) && !(Array.isArray(model) && model.length > 0 && model.every(isSplineLayer))) {
      throw new ArgumentError(`${CONTEXT}: expected a tfjs-layers model or a non-empty array of SplineActivation ` +
        `layers, got ${describe(model)}`);
    }
    // tfjs's Optimizer[Symbol.hasInstance] is duck-typed (inherited by this class), so a
    // wrapper is recognized by its prototype chain.
    if (!(optimizer instanceof tf.Optimizer) || TV2ProximalOptimizer.prototype.isPrototypeOf(optimizer)) {
      throw new ArgumentError(`${CONTEXT}: expected a tfjs optimizer (e.g. tf.train.adam(1e-2)) to wrap, ` +
        `got ${describe(optimizer)}`);
    }
    checkArgsObject(args, CONTEXT, 'lambda, ...');
    if (args.lambda === undefined) {
      throw new ArgumentError(`${CONTEXT}: expected lambda (a finite number >= 0), got undefined`);
    }
    this.lambda = args.lambda;
    this.splineLearningRateFactor = checkPositive('splineLearningRateFactor',
      args.splineLearningRateFactor ?? 1, CONTEXT);
    const metric = args.metric ?? 'values';
    if (metric !== 'values' && metric !== 'relu') {
      throw new ArgumentError(`${CONTEXT}: expected metric 'values' or 'relu', got ${describe(metric)}`);
    }
    this.metric = metric;
    this.warmupSteps = checkSteps('warmupSteps', args.warmupSteps ?? 0);
    this.rampSteps = checkSteps('rampSteps', args.rampSteps ?? 0);
    this.refitAfterSteps = args.refitAfterSteps === undefined || args.refitAfterSteps === Infinity ? Infinity :
      checkSteps('refitAfterSteps', args.refitAfterSteps);
    this.beta1 = checkBeta('beta1', args.beta1 ?? 0.9);
    this.beta2 = checkBeta('beta2', args.beta2 ?? 0.999);
    this.epsilon = checkPositive('epsilon', args.epsilon ?? 1e-8, CONTEXT);
    this.source = model;
    this.optimizer = optimizer;
    if (this.layers().length === 0) {
      throw new ArgumentError(`${CONTEXT}: the model has no SplineActivation layer (nested models included); ` +
        `the TV(2) prox acts on spline activations`);
    }
    this.splineVariables();
  }

  /** The wrapped optimizer's learning rate (setting it sets the wrapped one's: schedules). */
  get learningRate(): number {
    const lr = learningRateOf(this.optimizer);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ArgumentError(`${CONTEXT}: expected the wrapped optimizer's learningRate to be a finite number >= 0, ` +
        `got ${describe(lr)}`);
    }
    return lr;
  }

  /** Sets the learning rate of the spline step and of the wrapped optimizer. */
  set learningRate(lr: number) {
    checkNonNegative('learningRate', lr, CONTEXT);
    setLearningRate(this.optimizer, lr);
  }

  private layers(): SplineActivation[] {
    return isLayersModel(this.source) ? splineLayers(this.source).map((f) => f.layer) : this.source;
  }

  /** Spline layer of every coefficient variable, by the variable's name. */
  private splineVariables(): Map<string, SplineActivation> {
    const byName = new Map<string, SplineActivation>();
    for (const layer of this.layers()) {
      if (this.lambda > 0 && layer.coefficientsRegularizer instanceof TV2Regularizer) {
        throw new ArgumentError(`${CONTEXT}: spline layer '${layer.name}' has a tv2Regularizer; the proximal ` +
          `solver minimizes the same TV(2) penalty at lambda ${this.lambda} (remove the regularizer, or it ` +
          `counts twice; with a tv2Regularizer, lambda must be 0)`);
      }
      // The coefficients only (the layer's first weight): a learnableScale's scale, its second,
      // is an ordinary weight of the wrapped optimizer.
      const coefficients = layer.weights[0];
      if (coefficients != null) byName.set((coefficients.read() as Variable).name, layer);
    }
    return byName;
  }

  /**
   * Applies the wrapped optimizer to the non-spline variables and the proximal Adam step to
   * the spline coefficients.
   */
  override applyGradients(variableGradients: NamedTensorMap | Array<{name: string, tensor: Tensor}>): void {
    const list: Named[] = Array.isArray(variableGradients) ? variableGradients :
      Object.keys(variableGradients).map((name) => ({name, tensor: variableGradients[name]!}));
    const splines = this.splineVariables();
    const others = list.filter((g) => !splines.has(g.name));
    const own = list.filter((g) => splines.has(g.name) && g.tensor != null);
    if (others.length > 0) this.optimizer.applyGradients(others);
    if (own.length > 0) {
      this.splineSteps += 1;
      const eta = this.splineLearningRateFactor * this.learningRate;
      const refit = this.splineSteps - 1 >= this.refitAfterSteps;
      const lambda = this.lambda * this.warmupFactor(this.splineSteps - 1);
      for (const {name, tensor} of own) this.splineStep(name, tensor, splines.get(name)!, eta, lambda, refit);
    }
    this.incrementIterations();
  }

  /** The share of `lambda` that spline step `s` (0-based) uses: 0, then a linear rise to 1. */
  private warmupFactor(s: number): number {
    if (s < this.warmupSteps) return 0;
    return this.rampSteps === 0 ? 1 : Math.min((s - this.warmupSteps + 1) / this.rampSteps, 1);
  }

  private splineStep(name: string, gradient: Tensor, layer: SplineActivation, eta: number, lambda: number,
      refit: boolean): void {
    const variable = registeredVariable(name)!;
    const [C, K] = variable.shape as [number, number];
    const T = layer.step;
    const state = this.state(name, C, K);
    if (refit && state.frozen == null) {
      // The knots exactly 0 now (T a_k as softThresholdSlopes computes it) get an infinite
      // threshold for the rest of training, the others none.
      state.frozen = tf.tidy(() => {
        const d = tf.sub(tf.slice(variable, [0, 1], [C, K - 1]), tf.slice(variable, [0, 0], [C, K - 1]));
        const zero = tf.equal(tf.sub(tf.slice(d, [0, 1], [C, K - 2]), tf.slice(d, [0, 0], [C, K - 2])), 0);
        return tf.variable(tf.where(zero, tf.fill([C, K - 2], Infinity), tf.zeros([C, K - 2])), false);
      });
    }
    const {m, v} = state;
    const frozen = refit ? state.frozen as Tensor2D : null;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const t = this.splineSteps;
    tf.tidy(() => {
      const g = gradient as Tensor2D;
      const cols = (x: Tensor, from: number, n: number) => tf.slice(x, [0, from], [C, n]);
      // Adam's moments of a gradient; returns the bias-corrected m and sqrt(v_hat) + eps.
      const adam = (gu: Tensor): [Tensor, Tensor] => {
        const mNew = tf.add(tf.mul(m, b1), tf.mul(gu, 1 - b1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(gu), 1 - b2));
        m.assign(mNew);
        v.assign(vNew);
        return [tf.div(mNew, 1 - b1 ** t), tf.add(tf.sqrt(tf.div(vNew, 1 - b2 ** t)), this.epsilon)];
      };
      let moved: Tensor;
      let threshold: Tensor2D;
      if (this.metric === 'values') {
        // Adam on c itself; a_k = (c[k-1] - 2 c[k] + c[k+1]) / T, so the prox's step on a_k in
        // the metric diag(D), D = eta / (sqrt(v_hat) + eps), is (D[k-1] + 4 D[k] + D[k+1]) / T^2
        // per unit of penalty gradient (the diagonal of A D A^T).
        const [mNew, denom] = adam(g);
        moved = tf.add(variable, tf.div(tf.mul(mNew, -eta), denom));
        const diagonal = (D: Tensor) => tf.add(tf.add(cols(D, 0, K - 2), tf.mul(cols(D, 1, K - 2), 4)), cols(D, 2, K - 2));
        threshold = frozen ?? diagonal(tf.div(eta * lambda / (T * T), denom)) as Tensor2D;
        moved = tf.add(moved, metricAffine(moved as Tensor2D, threshold, T, denom));
      } else {
        // g_u = M^T g_c: c[0] gets sum (1 - k) g_k, c[1] sum k g_k, a_j T sum_{k>j} (k - j) g_k.
        const k = tf.range(0, K, 1, 'float32');
        const g1 = tf.sum(tf.mul(g, k), 1, true);
        const g0 = tf.sub(tf.sum(g, 1, true), g1);
        const tail = tf.cumsum(tf.cumsum(g, 1, false, true), 1, false, true);
        const [mNew, denom] = adam(tf.concat([g0, g1, tf.mul(cols(tail, 2, K - 2), T)], 1));
        const du = tf.div(tf.mul(mNew, -eta), denom);
        // c + M du: the linear part, plus T times the double cumulative sum of the slope steps.
        const du0 = cols(du, 0, 1);
        const linear = tf.add(du0, tf.mul(tf.sub(cols(du, 1, 1), du0), k));
        const padded = tf.concat([tf.zeros([C, 2]), cols(du, 2, K - 2)], 1);
        moved = tf.add(variable, tf.add(linear, tf.mul(tf.cumsum(tf.cumsum(padded, 1), 1), T)));
        threshold = frozen ?? tf.div(eta * lambda, cols(denom, 2, K - 2)) as Tensor2D;
      }
      variable.assign(softThresholdSlopes(moved as Tensor2D, T, threshold));
    });
  }

  /** The moments of a `[C, K]` spline variable, created at 0 on its first use. */
  private state(name: string, C: number, K: number): Moments {
    let state = this.moments.get(name);
    if (state == null) {
      state = {m: tf.variable(tf.zeros([C, K]), false), v: tf.variable(tf.zeros([C, K]), false)};
      this.moments.set(name, state);
    }
    return state;
  }

  /** Disposes the spline moments and the wrapped optimizer. */
  override dispose(): void {
    for (const {m, v, frozen} of this.moments.values()) {
      m.dispose();
      v.dispose();
      frozen?.dispose();
    }
    this.moments.clear();
    this.optimizer.dispose();
  }

  /**
   * The wrapped optimizer's weights, then the spline step count (`tv2prox/steps`) and the
   * spline moments (`<variable>/tv2prox_m`, `/tv2prox_v`; in the refit also its thresholds,
   * `/tv2prox_frozen`).
   */
  override async getWeights(): Promise<Array<{name: string, tensor: Tensor}>> {
    const own: Named[] = [{name: 'tv2prox/steps', tensor: tf.scalar(this.splineSteps, 'int32')}];
    for (const [name, {m, v, frozen}] of this.moments) {
      own.push({name: `${name}/tv2prox_m`, tensor: m}, {name: `${name}/tv2prox_v`, tensor: v});
      if (frozen != null) own.push({name: `${name}/tv2prox_frozen`, tensor: frozen});
    }
    return [...await this.optimizer.getWeights(), ...own];
  }

  /** Restores what {@link getWeights} returned. */
  override async setWeights(weightValues: Array<{name: string, tensor: Tensor}>): Promise<void> {
    const isOwn = (w: Named) => w.name === 'tv2prox/steps' || /\/tv2prox_(m|v|frozen)$/.test(w.name);
    await this.optimizer.setWeights(weightValues.filter((w) => !isOwn(w)));
    for (const {name, tensor} of weightValues.filter(isOwn)) {
      if (name === 'tv2prox/steps') {
        this.splineSteps = (await tensor.data())[0]!;
        continue;
      }
      const variable = name.replace(/\/tv2prox_(m|v|frozen)$/, '');
      const [C, n] = tensor.shape as [number, number];
      const state = this.state(variable, C, name.endsWith('_frozen') ? n + 2 : n);
      if (!name.endsWith('_frozen')) (name.endsWith('_m') ? state.m : state.v).assign(tensor);
      else if (state.frozen == null) state.frozen = tf.variable(tensor, false);
      else state.frozen.assign(tensor);
    }
  }

  /** The solver's settings and the wrapped optimizer's class name and config. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      lambda: this.lambda, splineLearningRateFactor: this.splineLearningRateFactor, metric: this.metric,
      warmupSteps: this.warmupSteps, rampSteps: this.rampSteps,
      refitAfterSteps: this.refitAfterSteps === Infinity ? null : this.refitAfterSteps, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon,
      optimizer: {className: this.optimizer.getClassName(), config: this.optimizer.getConfig()},
    };
  }
}

/**
 * Creates a {@link TV2ProximalOptimizer}: proximal Adam for the TV(2) penalty on the spline
 * coefficients of `model` (or of the given layers), `optimizer` for everything else.
 */
export function tv2ProximalOptimizer(model: tfl.LayersModel | SplineActivation[], optimizer: tf.Optimizer,
    args: TV2ProximalOptimizerArgs): TV2ProximalOptimizer {
  return new TV2ProximalOptimizer(model, optimizer, args);
}
