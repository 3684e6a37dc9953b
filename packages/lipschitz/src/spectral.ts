/**
 * Lipschitz layers by construction (deel-lip's `SpectralDense` / `SpectralConv2D`): the
 * kernel is divided by its spectral norm inside `call`, optionally orthonormalized by Björck
 * iterations, so that the layer is `lipschitz`-Lipschitz (l2) at every step without a
 * callback, and gradients flow through the normalisation.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import type {Kwargs} from '@tensorflow/tfjs-layers/dist/types';
import type {Dense, DenseLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/core';
import type {Conv2D, ConvLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import {checkFinite, checkInteger, describe} from '@deepspline/core/internal';
import {isLayersModel, registerStandardExport} from '@deepspline/layers';
import type {StandardExportContext} from '@deepspline/layers';
import {findLayers} from './find_layers.js';
import {matrixNorm, PowerIterationState} from './linalg.js';
import {runAsync, runSync, take} from './reads.js';
import type {TensorReads} from './reads.js';
import {activationConstant, convolutionNormReads, registerLipschitzRule} from './rules.js';
import {checkWeightOptions} from './regularizers.js';

/** How a spectral layer orthonormalizes its normalised kernel. */
export type Orthonormalization = 'none' | 'bjorck';

/** The Lipschitz arguments shared by {@link spectralDense} and {@link spectralConv2d}. */
export interface SpectralArgs {
  /**
   * The layer's Lipschitz constant (l2) by construction: the normalised kernel times this.
   * @defaultValue 1
   */
  lipschitz?: number;
  /**
   * `'bjorck'`: after the division by the spectral norm, `bjorckSteps` Björck iterations
   * `W <- W (3/2 I - 1/2 W^T W)` push every singular value towards 1 (gradient-norm
   * preserving layers, Anil et al. 2019); `'none'`: spectral normalisation only.
   * @defaultValue 'none'
   */
  orthonormalize?: Orthonormalization;
  /**
   * Björck iterations at inference and at the first training step with `orthonormalize:
   * 'bjorck'` (an integer >= 1). Later training steps run `trainingBjorckSteps` iterations
   * from the kernel the previous step left (see {@link SpectralArgs.trainingBjorckSteps}).
   * @defaultValue 15
   */
  bjorckSteps?: number;
  /**
   * Björck iterations per training step after the first, with `orthonormalize: 'bjorck'` (an
   * integer >= 1). The layer's kernel is the orthonormal (polar) factor of its weight `W`,
   * which does not change when `W` is replaced by that factor; so each training step writes
   * the orthonormalized kernel back into `W` and the iterations accumulate across steps: one
   * iteration per step keeps `W` orthonormal to about `(3/4) e^2`, where `e` is how far one
   * optimizer step moved the squared singular values from 1. The gradient is the exact
   * gradient of the loss through the polar factor at an orthonormal kernel (the projection
   * of the kernel's gradient onto the orthonormal matrices' tangent space), not through the
   * unrolled iterations.
   * @defaultValue 1
   */
  trainingBjorckSteps?: number;
  /**
   * Power iterations per training step, warm-started from the persistent vector `u` (an
   * integer >= 1). Inference does not use this estimate (see {@link SpectralDense.effectiveKernel}).
   * @defaultValue 3
   */
  powerIterations?: number;
}

/** Arguments of {@link spectralDense}: tfjs's `dense` arguments plus {@link SpectralArgs}. */
export interface SpectralDenseArgs extends DenseLayerArgs, SpectralArgs {}

/**
 * Arguments of {@link spectralConv2d}: tfjs's `conv2d` arguments plus {@link SpectralArgs};
 * `dilationRate` must be 1 (tfjs 4.22 has no gradient for dilated convolutions).
 */
export interface SpectralConv2DArgs extends ConvLayerArgs, SpectralArgs {}

/** Björck steps when `bjorckSteps` is not given. */
export const DEFAULT_BJORCK_STEPS = 15;
/** Björck steps per training step after the first when `trainingBjorckSteps` is not given. */
export const DEFAULT_TRAINING_BJORCK_STEPS = 1;
/** Power iterations per training step when `powerIterations` is not given. */
export const DEFAULT_POWER_ITERATIONS = 3;

interface Resolved {
  lipschitz: number;
  orthonormalize: Orthonormalization;
  bjorckSteps: number;
  trainingBjorckSteps: number;
  powerIterations: number;
}

function resolveSpectral(args: unknown, context: string): Resolved {
  if (args == null || typeof args !== 'object' || Array.isArray(args)) {
    throw new Error(`${context}: expected an arguments object, got ${describe(args)}`);
  }
  const a = args as SpectralArgs;
  const lipschitz = checkFinite('lipschitz', a.lipschitz ?? 1, context);
  if (!(lipschitz > 0)) throw new Error(`${context}: expected lipschitz > 0, got ${describe(a.lipschitz)}`);
  const orthonormalize = a.orthonormalize ?? 'none';
  if (orthonormalize !== 'none' && orthonormalize !== 'bjorck') {
    throw new Error(`${context}: expected orthonormalize 'none' or 'bjorck', got ${describe(a.orthonormalize)}`);
  }
  return {
    lipschitz, orthonormalize,
    bjorckSteps: checkInteger('bjorckSteps', a.bjorckSteps ?? DEFAULT_BJORCK_STEPS, 1, context),
    trainingBjorckSteps: checkInteger('trainingBjorckSteps', a.trainingBjorckSteps ?? DEFAULT_TRAINING_BJORCK_STEPS,
      1, context),
    powerIterations: checkInteger('powerIterations', a.powerIterations ?? DEFAULT_POWER_ITERATIONS, 1, context),
  };
}

/** The identity with a zero gradient (tfjs has no `stopGradient` op). */
const stopGradient = tf.customGrad(((x: Tensor) =>
  ({value: tf.clone(x), gradFunc: (dy: Tensor) => tf.zerosLike(dy)})) as never) as unknown as (x: Tensor) => Tensor;

/** `(m + m^T) / 2`. */
function sym(m: Tensor2D): Tensor2D {
  return tf.mul(tf.add(m, tf.transpose(m)), 0.5) as Tensor2D;
}

function l2normalize(v: Tensor): Tensor {
  return tf.div(v, tf.add(tf.norm(v), 1e-12));
}

/**
 * Björck orthonormalization (order 1) of a matrix `[rows, cols]`, on the smaller Gram matrix.
 * For singular values `s` in `[0, sqrt(3))` each step maps `s -> s (3 - s^2) / 2`, which
 * never exceeds 1 (`1 - s (3 - s^2) / 2 = (s - 1)^2 (s + 2) / 2 >= 0`).
 */
function bjorck(w: Tensor2D, steps: number): Tensor2D {
  const [rows, cols] = w.shape;
  let x = w;
  for (let i = 0; i < steps; ++i) {
    x = cols <= rows ?
      tf.sub(tf.mul(x, 1.5), tf.mul(tf.matMul(x, tf.matMul(x, x, true, false)), 0.5)) :
      tf.sub(tf.mul(x, 1.5), tf.mul(tf.matMul(tf.matMul(x, x, false, true), x), 0.5));
  }
  return x;
}

/**
 * The state and arithmetic shared by both spectral layers: the kernel seen as a matrix
 * `[fanIn, units]`, its persistent power-iteration vector `u` (`[1, units]`, a non-trainable
 * weight saved with the model), and the cached certified kernel for inference.
 */
class SpectralCore {
  private cached: {kernel: Tensor, key: unknown[]} | null = null;
  /** Whether a Björck training step ran (later steps start from its orthonormal kernel). */
  private warm = false;
  private readonly state = new PowerIterationState();

  constructor(readonly options: Resolved, private readonly name: () => string,
      /** sqrt of the most windows an input lies in: ||conv|| <= coeff * ||kernel matrix||. */
      private readonly coeff: number) {}

  /**
   * Training: normalise by a power-iteration estimate updated in place (differentiable), or
   * with Björck, see {@link SpectralCore.bjorckTraining}. `write` replaces the layer's weight
   * by a kernel (matrix view) of the same function.
   */
  trainingKernel(w: Tensor2D, u: LayerVariable, write: (kernel: Tensor2D) => void): Tensor2D {
    let uv = stopGradient(tf.transpose(u.read())) as Tensor2D;  // [units, 1]
    let v: Tensor2D = uv;
    const ws = this.options.orthonormalize === 'bjorck' ? stopGradient(w) as Tensor2D : w;
    for (let i = 0; i < this.options.powerIterations; ++i) {
      v = l2normalize(tf.matMul(ws, uv)) as Tensor2D;             // [fanIn, 1]
      uv = l2normalize(tf.matMul(ws, v, true, false)) as Tensor2D;  // [units, 1]
    }
    uv = stopGradient(uv) as Tensor2D;
    v = stopGradient(v) as Tensor2D;
    u.write(tf.transpose(uv));
    const sigma = tf.sum(tf.mul(v, tf.matMul(ws, uv)));
    const wn = this.options.orthonormalize === 'bjorck' ? this.bjorckTraining(w, sigma, write) :
      tf.div(w, tf.maximum(sigma, 1e-12)) as Tensor2D;
    return tf.mul(wn, this.options.lipschitz / this.coeff) as Tensor2D;
  }

  /**
   * The orthonormalized kernel of a training step: `steps` Björck iterations from `w / sigma`
   * (`bjorckSteps` at the layer's first training step, `trainingBjorckSteps` after), written
   * back into the weight at the weight's scale `sigma` (the polar factor of `W` is that of
   * `sigma` times its own polar factor, so the function is unchanged and the next step starts
   * nearly orthonormal; keeping the scale keeps the optimizer's steps relative to the weight
   * as they were without the write-back: written at scale 1, the 2-D benchmark's s_shape
   * GroupSort net certified 55.6 % at r = 0.05 against 59.6 % (5 seeds), at the weight's
   * scale 59.7 %). The gradient is that
   * of the polar factor at an orthonormal `Q`: for `Q` with orthonormal columns, the
   * projection `G - Q sym(Q^T G)` of the kernel's gradient `G` onto the tangent space of the
   * orthonormal matrices (rows: `G - sym(G Q^T) Q`), divided by `sigma`. Cost per step: two
   * products of the kernel's size with its smaller Gram matrix forward, two backward,
   * against `6 steps` for gradients through unrolled iterations.
   */
  private bjorckTraining(w: Tensor2D, sigma: Tensor, write: (kernel: Tensor2D) => void): Tensor2D {
    const steps = this.warm ? this.options.trainingBjorckSteps : this.options.bjorckSteps;
    this.warm = true;
    const [rows, cols] = w.shape;
    const s = tf.maximum(sigma, 1e-12);
    const polar = tf.customGrad(((x: Tensor2D, save: (t: Tensor[]) => void) => {
      const q = bjorck(tf.div(x, s) as Tensor2D, steps);
      write(tf.mul(q, s) as Tensor2D);
      save([q, s]);  // the gradient runs after call's tidy has disposed s
      return {
        value: q,
        gradFunc: (dy: Tensor2D, saved: Tensor[]) => {
          const [qs, ss] = saved as [Tensor2D, Tensor];
          const g = cols <= rows ?
            tf.sub(dy, tf.matMul(qs, sym(tf.matMul(qs, dy, true, false)))) :
            tf.sub(dy, tf.matMul(sym(tf.matMul(dy, qs, false, true)), qs));
          return tf.div(g, ss);
        },
      };
    }) as never) as unknown as (x: Tensor2D) => Tensor2D;
    return polar(w);
  }

  /**
   * Inference: normalise by a certified upper bound of the spectral norm (float64 Lanczos,
   * proven by {@link matrixNorm}), optionally orthonormalize, and scale to `target =
   * lipschitz / coeff` (rounded down). The float32 products round each entry to nearest, which
   * left the kernel up to 1e-7 above `target`; so the certified norm of the float32 kernel
   * itself is checked, and the kernel shrunk (by `target / norm` and a margin that grows from
   * 2^-22) until it is `<= target`: the deployed kernel's exact norm never exceeds it. Cached
   * until the kernel or `u` is assigned.
   */
  inferenceKernel(kernel: LayerVariable, u: LayerVariable, toMatrix: (t: Tensor) => Tensor2D,
      fromMatrix: (t: Tensor2D) => Tensor): Tensor {
    return runSync(this.inferenceKernelReads(kernel, u, toMatrix, fromMatrix));
  }

  /** {@link inferenceKernel} as {@link TensorReads}: the same computation, reads yielded. */
  *inferenceKernelReads(kernel: LayerVariable, u: LayerVariable, toMatrix: (t: Tensor) => Tensor2D,
      fromMatrix: (t: Tensor2D) => Tensor): TensorReads<Tensor> {
    const key = [kernel.read().dataId, u.read().dataId, this.options];
    if (this.cached != null && this.cached.key.every((k, i) => k === key[i])) return this.cached.kernel;
    // a copy of the kernel of now (the key's), whatever the variable is assigned meanwhile
    const w = tf.tidy(() => tf.clone(toMatrix(kernel.read())));
    let wn: Tensor2D | null = null;
    try {
      const [rows, cols] = w.shape;
      const sigma = matrixNorm(yield w, rows, cols, 2, {state: this.state}, 'kernel');
      if (!Number.isFinite(sigma)) {
        throw new Error(`${this.name()}: the kernel's spectral norm is ${describe(sigma)}; are its weights NaN or Infinite?`);
      }
      // lipschitz / coeff rounds by 2^-53 and coeff (a square root) by as much
      const target = this.options.lipschitz / this.coeff * (1 - 2 ** -50);
      wn = tf.tidy(() => this.options.orthonormalize === 'bjorck' ?
        tf.mul(bjorck(tf.div(w, Math.max(sigma, 1e-12)) as Tensor2D, this.options.bjorckSteps), target) as Tensor2D :
        tf.mul(w, target / Math.max(sigma, 1e-12)) as Tensor2D);
      for (let attempt = 0; ; ++attempt) {
        const norm = matrixNorm(yield wn, rows, cols, 2, {state: this.state}, 'deployed');
        if (norm <= target) break;
        if (attempt === 8 || !Number.isFinite(norm)) {
          throw new Error(`${this.name()}: could not scale the kernel's spectral norm to <= ${target}, got ${norm}`);
        }
        const shrunk = tf.mul(wn, target / norm * (1 - 2 ** (2 * attempt - 22))) as Tensor2D;
        wn.dispose();
        wn = shrunk;
      }
      const last = wn;
      // kept: `call` runs this inside its tidy, and the cache outlives it
      const next = tf.keep(tf.tidy(() => fromMatrix(tf.clone(last))));
      this.dispose();
      this.cached = {kernel: next, key};
      return next;
    } finally {
      w.dispose();
      wn?.dispose();
    }
  }

  dispose(): void {
    if (this.cached != null) {
      this.cached.kernel.dispose();
      this.cached = null;
    }
  }

  config(): tf.serialization.ConfigDict {
    const {lipschitz, orthonormalize, bjorckSteps, trainingBjorckSteps, powerIterations} = this.options;
    return {lipschitz, orthonormalize, bjorckSteps, trainingBjorckSteps, powerIterations};
  }
}

function registered<T>(className: string): T {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry == null) throw new Error(`@deepspline/lipschitz: tfjs-layers did not register '${className}'`);
  return entry[0] as unknown as T;
}

// tfjs-layers does not export its layer classes; they are in its serialization registry.
const DenseBase = registered<typeof Dense>('Dense');
const Conv2DBase = registered<typeof Conv2D>('Conv2D');

interface Activation { apply(x: Tensor): Tensor; getClassName(): string }

/** The fields of tfjs's Dense and Conv2D that their declarations mark private. */
interface LayerFields {
  units: number;
  filters: number;
  kernel: LayerVariable | null;
  bias: LayerVariable | null;
  activation: Activation;
}
const fields = (layer: object) => layer as unknown as LayerFields;

/** The end of a Dense or Conv2D call: `activation(y + bias)`. */
function biasAndActivation(layer: object, y: Tensor): Tensor {
  const {bias, activation} = fields(layer);
  return activation.apply(bias != null ? tf.add(y, bias.read()) : y);
}

/**
 * A dense layer whose kernel is divided by its spectral norm inside `call` (deel-lip's
 * `SpectralDense`): `y = activation(x (lipschitz * W / ||W||_2) + b)`, `lipschitz`-Lipschitz
 * in l2 (times the activation's constant) at every step, with gradients through the
 * normalisation. In training the norm is estimated by `powerIterations` warm-started power
 * iterations on a persistent vector; at inference (`predict`, `evaluate`) by a certified
 * upper bound, so the deployed layer's norm is at most `lipschitz`.
 * {@link lipschitzBound} certifies the layer by the exact norm of {@link effectiveKernel}.
 */
export class SpectralDense extends DenseBase {
  /** Class name used for serialization. */
  static override className = 'SpectralDense';
  private readonly spectral: SpectralCore;
  private u: LayerVariable | null = null;

  constructor(args: SpectralDenseArgs) {
    const options = resolveSpectral(args, 'spectralDense');
    super(args);
    checkWeightOptions(this, args, 'spectralDense');
    this.spectral = new SpectralCore(options, () => `spectralDense '${this.name}'`, 1);
  }

  /** The layer's Lipschitz arguments. */
  get spectralOptions(): Readonly<Required<SpectralArgs>> { return this.spectral.options; }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    super.build(inputShape);
    if (this.u == null) {
      this.u = this.addWeight('u', [1, fields(this).units], 'float32',
        tfl.initializers.randomNormal({mean: 0, stddev: 1, seed: 1}), undefined, false);
    }
  }

  /**
   * The kernel the layer evaluates with at inference, `[in, units]`: the certified normalised
   * kernel (cached until the weights change). Not to be disposed by the caller.
   */
  effectiveKernel(): Tensor2D {
    return runSync(this.effectiveKernelReads());
  }

  /**
   * {@link effectiveKernel} as {@link TensorReads}, for {@link prepareInference} and
   * {@link lipschitzBoundAsync}: computed with asynchronous reads under `runAsync`.
   */
  effectiveKernelReads(): TensorReads<Tensor2D> {
    if (fields(this).kernel == null || this.u == null) {
      throw new Error(`spectralDense '${this.name}': the layer is not built yet; call it on an input first`);
    }
    return this.spectral.inferenceKernelReads(fields(this).kernel!, this.u, (t) => t as Tensor2D,
      (t) => t) as TensorReads<Tensor2D>;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const w = kwargs.training === true ?
        this.spectral.trainingKernel(fields(this).kernel!.read() as Tensor2D, this.u!,
          (q) => fields(this).kernel!.write(q)) : this.effectiveKernel();
      const inDim = x.shape[x.shape.length - 1]!;
      const y: Tensor = x.rank === 2 ? tf.matMul(x as Tensor2D, w) :
        tf.reshape(tf.matMul(tf.reshape(x, [-1, inDim]) as Tensor2D, w), [...x.shape.slice(0, -1), fields(this).units]);
      return biasAndActivation(this, y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), ...this.spectral.config()};
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    this.spectral.dispose();
    return super.dispose();
  }
}
tf.serialization.registerClass(SpectralDense);

function convCoefficient(kernelSize: number[], strides: number[]): number {
  // Every input pixel lies in at most ceil(k/s) windows per axis, so
  // ||conv|| <= sqrt(prod) * ||kernel as a [kh kw cin, cout] matrix|| (zero padding adds nothing).
  const windows = kernelSize.map((k, i) => Math.min(k, Math.ceil(k / strides[i]!)));
  return Math.sqrt(windows.reduce((a, b) => a * b, 1));
}

/**
 * A 2-D convolution whose kernel, seen as the `[kh kw cin, cout]` matrix, is divided by its
 * spectral norm times `sqrt(windows)` (the most windows one input pixel lies in) inside
 * `call`, so the convolution operator is `lipschitz`-Lipschitz in l2 at every step (deel-lip's
 * `SpectralConv2D`). Training and inference normalise as {@link SpectralDense} does;
 * {@link lipschitzBound} certifies the layer by the exact operator norm of the convolution with
 * {@link effectiveKernel} on its input shape (usually well below `lipschitz`). Channels-last only.
 */
export class SpectralConv2D extends Conv2DBase {
  /** Class name used for serialization. */
  static override className = 'SpectralConv2D';
  private readonly spectral: SpectralCore;
  private u: LayerVariable | null = null;

  constructor(args: SpectralConv2DArgs) {
    const options = resolveSpectral(args, 'spectralConv2d');
    super(args);
    if (this.dataFormat !== 'channelsLast') {
      throw new Error(`spectralConv2d: expected dataFormat 'channelsLast', got ${describe(args.dataFormat)}`);
    }
    if ((this.dilationRate as number[]).some((d) => d !== 1)) {
      throw new Error(`spectralConv2d: expected dilationRate 1 (tfjs 4.22 has no gradient for ` +
        `dilated convolutions, so the layer could not train), got ${describe(args.dilationRate)}`);
    }
    checkWeightOptions(this, args, 'spectralConv2d');
    this.spectral = new SpectralCore(options, () => `spectralConv2d '${this.name}'`,
      convCoefficient(this.kernelSize, this.strides));
  }

  /** The layer's Lipschitz arguments. */
  get spectralOptions(): Readonly<Required<SpectralArgs>> { return this.spectral.options; }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    super.build(inputShape);
    if (this.u == null) {
      this.u = this.addWeight('u', [1, fields(this).filters], 'float32',
        tfl.initializers.randomNormal({mean: 0, stddev: 1, seed: 1}), undefined, false);
    }
  }

  private get kernelShape(): [number, number, number, number] {
    return fields(this).kernel!.shape as [number, number, number, number];
  }

  /**
   * The kernel the layer evaluates with at inference, `[kh, kw, cin, filters]`, certified and
   * cached until the weights change. Not to be disposed by the caller.
   */
  effectiveKernel(): Tensor4D {
    return runSync(this.effectiveKernelReads());
  }

  /** {@link effectiveKernel} as {@link TensorReads} (see {@link SpectralDense.effectiveKernelReads}). */
  effectiveKernelReads(): TensorReads<Tensor4D> {
    if (fields(this).kernel == null || this.u == null) {
      throw new Error(`spectralConv2d '${this.name}': the layer is not built yet; call it on an input first`);
    }
    const shape = this.kernelShape;
    return this.spectral.inferenceKernelReads(fields(this).kernel!, this.u,
      (t) => tf.reshape(t, [-1, fields(this).filters]) as Tensor2D,
      (t) => tf.reshape(t, shape)) as TensorReads<Tensor4D>;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as Tensor4D;
      const k = kwargs.training === true ?
        tf.reshape(this.spectral.trainingKernel(tf.reshape(fields(this).kernel!.read(), [-1, fields(this).filters]) as Tensor2D,
          this.u!, (q) => fields(this).kernel!.write(tf.reshape(q, this.kernelShape))), this.kernelShape) as Tensor4D :
          this.effectiveKernel();
      const y: Tensor = tf.conv2d(x, k, this.strides as [number, number], this.padding as 'same' | 'valid', 'NHWC',
        this.dilationRate as [number, number]);
      return biasAndActivation(this, y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), ...this.spectral.config()};
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    this.spectral.dispose();
    return super.dispose();
  }
}
tf.serialization.registerClass(SpectralConv2D);

/**
 * Creates a {@link SpectralDense} layer: `tf.layers.dense` arguments plus `lipschitz`,
 * `orthonormalize`, `bjorckSteps`, `powerIterations`.
 *
 * @example
 * ```ts
 * const model = tf.sequential({layers: [
 *   spectralDense({units: 64, inputShape: [2], orthonormalize: 'bjorck'}),
 *   splineActivation({size: 21, range: 1, maxSlope: 1}),
 *   spectralDense({units: 1}),
 * ]});
 * ```
 */
export function spectralDense(args: SpectralDenseArgs): SpectralDense {
  return new SpectralDense(args);
}

/** Creates a {@link SpectralConv2D} layer: `tf.layers.conv2d` arguments plus the Lipschitz ones. */
export function spectralConv2d(args: SpectralConv2DArgs): SpectralConv2D {
  return new SpectralConv2D(args);
}

// The certified factors: the exact norm of the kernel `call` uses at inference, computed
// cold (no stored vector), never the training-time estimate.
registerLipschitzRule('SpectralDense', function* (layer, context) {
  const l = layer as SpectralDense;
  const act = context.activationFactor(activationConstant(fields(l).activation, layer));
  // a copy: the cached kernel may be replaced (and disposed) while it is read
  const w = tf.clone(yield* l.effectiveKernelReads());
  const [rows, cols] = w.shape;
  const cold = {...context.powerIteration, state: undefined};
  return matrixNorm(yield* take(w), rows, cols, context.norm, cold, context.key) * act;
});
registerLipschitzRule('SpectralConv2D', function* (layer, context) {
  const l = layer as SpectralConv2D;
  const act = context.activationFactor(activationConstant(fields(l).activation, layer));
  const cold = {...context, powerIteration: {...context.powerIteration, state: undefined}};
  const k = tf.clone(yield* l.effectiveKernelReads());
  try {
    return (yield* convolutionNormReads(layer, {kernel: k}, cold)) * act;
  } finally {
    k.dispose();
  }
});

/** {@link prepareInference} as {@link TensorReads}. */
export function* prepareInferenceReads(model: tfl.LayersModel, context = 'prepareInference'): TensorReads<void> {
  if (!isLayersModel(model)) {
    throw new Error(`${context}: expected a tfjs-layers model (tf.sequential or tf.model), got ${describe(model)}`);
  }
  for (const {layer} of findLayers(model, isSpectral)) yield* prepareLayerReads(layer);
}

const isSpectral = (l: tfl.layers.Layer): l is SpectralDense | SpectralConv2D =>
  l instanceof SpectralDense || l instanceof SpectralConv2D;

/** The certified inference kernel of `layer` if it is a built spectral layer, as {@link TensorReads}. */
export function* prepareLayerReads(layer: tfl.layers.Layer): TensorReads<void> {
  if (isSpectral(layer) && layer.built) yield* layer.effectiveKernelReads();
}

/**
 * Computes, with asynchronous reads (`await data()`), the certified inference kernels of the
 * model's {@link SpectralDense} and {@link SpectralConv2D} layers (nested models included).
 * Each layer caches its kernel until its weights change, so after this resolves `predict`
 * and `evaluate` read nothing synchronously, until the next training step.
 *
 * A spectral layer needs one read to certify its kernel, and `predict` is synchronous: on
 * the webgpu backend (where a synchronous read is slow, and fails under headless SwiftShader)
 * await this before `predict`. On other backends it only moves that work off the first
 * `predict`. {@link lipschitzBoundAsync}, {@link certifiedRadiusAsync} and
 * {@link certifiedAccuracyAsync} compute (and cache) these kernels themselves.
 *
 * @example
 * ```ts
 * await prepareInference(model);
 * const y = model.predict(x);
 * ```
 */
export async function prepareInference(model: tfl.LayersModel): Promise<void> {
  await runAsync(prepareInferenceReads(model));
}

/**
 * The deployed layer as the standard layer it extends (`Dense` or `Conv2D`) with the kernel
 * `call` uses at inference ({@link SpectralDense.effectiveKernel}): same outputs, and it
 * loads without this package. The power-iteration vector `u` is training state and is left out.
 */
function exportSpectral(base: typeof DenseBase | typeof Conv2DBase) {
  return (layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
      context: StandardExportContext): tfl.SymbolicTensor => {
    const l = layer as SpectralDense | SpectralConv2D;
    const config: tf.serialization.ConfigDict = {...l.getConfig(), name: context.uniqueName(l.name)};
    for (const key of ['batchInputShape', 'inputShape', ...Object.keys(l.spectralOptions)]) delete config[key];
    const cls = base as unknown as tf.serialization.SerializableConstructor<tfl.layers.Layer>;
    const standard = cls.fromConfig(cls, config);
    const y = standard.apply(inputs[0]!) as tfl.SymbolicTensor;
    const {bias} = fields(l);
    standard.setWeights([l.effectiveKernel(), ...(bias != null ? [bias.read()] : [])]);
    return y;
  };
}
registerStandardExport('SpectralDense', exportSpectral(DenseBase));
registerStandardExport('SpectralConv2D', exportSpectral(Conv2DBase));
