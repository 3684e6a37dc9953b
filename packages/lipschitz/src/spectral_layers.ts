/**
 * Lipschitz layers by construction (deel-lip's `SpectralDense` / `SpectralConv2D`): the
 * kernel is divided by its spectral norm inside `call`, optionally orthonormalized by Björck
 * iterations, so that the layer is `lipschitz`-Lipschitz (l2) at every step without a
 * callback, and gradients flow through the normalisation. Thin classes: the numerics are in
 * normalizers.ts, the arguments in spectral_args.ts. Each class is followed by its registrations
 * (serialization, Lipschitz rule, standard export).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {UnsupportedError} from '@deepspline/core';
import {registerStandardExport} from '@deepspline/layers';
import type {Conv2D, Dense, Kwargs} from '@deepspline/layers/internal';
import {activationConstant} from './activation_constants.js';
import {convolutionNormReads} from './conv_operator.js';
import {biasAndActivation, convCoefficient, exportWithKernel, fields, plainConvolutionProblem, registered,
  spectralConvolutionRule} from './kernel_layers.js';
import {matrixNorm} from './matrix_norm.js';
import {SpectralCore} from './normalizers.js';
import {runSync, take} from './reads.js';
import type {TensorReads} from './reads.js';
import {checkWeightOptions} from './regularizers.js';
import {registerLipschitzRule} from './rule_registry.js';
import {resolveSpectral} from './spectral_args.js';
import type {SpectralArgs, SpectralConv2DArgs, SpectralDenseArgs} from './spectral_args.js';

// tfjs-layers does not export its layer classes; they are in its serialization registry.
const DenseBase = registered<typeof Dense>('Dense');
const Conv2DBase = registered<typeof Conv2D>('Conv2D');

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
    this.spectral.build(this.addWeight.bind(this), fields(this).units);
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
    return this.spectral.inferenceKernelReads(fields(this).kernel, (t) => t as Tensor2D, (t) => t);
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const w = kwargs.training === true ?
        this.spectral.trainingKernel(fields(this).kernel!.read() as Tensor2D, (q) => fields(this).kernel!.write(q)) :
        this.effectiveKernel();
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

  constructor(args: SpectralConv2DArgs) {
    const options = resolveSpectral(args, 'spectralConv2d');
    super(args);
    const problem = plainConvolutionProblem(this.dataFormat, this.dilationRate, args, 'spectralConv2d',
      ' (tfjs 4.22 has no gradient for dilated convolutions, so the layer could not train)');
    if (problem != null) throw new UnsupportedError(problem);
    checkWeightOptions(this, args, 'spectralConv2d');
    this.spectral = new SpectralCore(options, () => `spectralConv2d '${this.name}'`,
      convCoefficient(this.kernelSize, this.strides));
  }

  /** The layer's Lipschitz arguments. */
  get spectralOptions(): Readonly<Required<SpectralArgs>> { return this.spectral.options; }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    super.build(inputShape);
    this.spectral.build(this.addWeight.bind(this), fields(this).filters);
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
    return this.spectral.inferenceKernelReads(fields(this).kernel, (t) => tf.reshape(t, [-1, fields(this).filters]) as Tensor2D,
      (t) => tf.reshape(t, this.kernelShape));
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as Tensor4D;
      const k = kwargs.training === true ?
        tf.reshape(this.spectral.trainingKernel(tf.reshape(fields(this).kernel!.read(), [-1, fields(this).filters]) as Tensor2D,
          (q) => fields(this).kernel!.write(tf.reshape(q, this.kernelShape))), this.kernelShape) as Tensor4D :
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
registerLipschitzRule('SpectralConv2D', spectralConvolutionRule((layer, kernel, context) =>
  convolutionNormReads(layer, {kernel}, context)));

/**
 * The deployed layer as the standard layer it extends (`Dense` or `Conv2D`) with the kernel
 * `call` uses at inference ({@link SpectralDense.effectiveKernel}). The power-iteration vector
 * `u` is training state and is left out.
 */
const spectralKeys = (l: SpectralDense | SpectralConv2D) => Object.keys(l.spectralOptions);
registerStandardExport('SpectralDense', exportWithKernel(DenseBase, spectralKeys, true));
registerStandardExport('SpectralConv2D', exportWithKernel(Conv2DBase, spectralKeys, true));
