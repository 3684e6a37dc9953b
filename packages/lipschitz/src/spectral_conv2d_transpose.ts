/**
 * `SpectralConv2DTranspose` (deel-lip's): a transposed 2-D convolution whose kernel is
 * spectrally normalised (and optionally Björck-orthonormalized) inside `call`.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import type {Kwargs} from '@tensorflow/tfjs-layers/dist/types';
import type {Conv2DTranspose, ConvLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import {firstInput} from './layer_args.js';
import {runSync} from './reads.js';
import type {TensorReads} from './reads.js';
import {convolutionNormReads} from './conv_operator.js';
import {registerLipschitzRule} from './rule_registry.js';
import type {LipschitzRuleContext} from './rule_registry.js';
import {checkWeightOptions} from './regularizers.js';
import {SpectralCore} from './normalizers.js';
import {biasAndActivation, convCoefficient, exportWithKernel, fields, plainConvolutionProblem, registered,
  spectralConvolutionRule} from './kernel_layers.js';
import {resolveSpectral} from './spectral_args.js';
import type {SpectralArgs} from './spectral_args.js';

/** Arguments of {@link spectralConv2dTranspose}: tfjs's `conv2dTranspose` arguments plus {@link SpectralArgs}. */
export interface SpectralConv2DTransposeArgs extends ConvLayerArgs, SpectralArgs {}

const CONTEXT = 'spectralConv2dTranspose';
const Conv2DTransposeBase = registered<typeof Conv2DTranspose>('Conv2DTranspose');

/**
 * A transposed 2-D convolution whose kernel is normalised inside `call` (deel-lip's
 * `SpectralConv2DTranspose`). tfjs's kernel is `[kh, kw, filters, cin]`; the matrix normalised
 * is `[kh kw cin, filters]` (deel-lip's), divided by its spectral norm (training: warm-started
 * power iterations; inference: a certified bound, as {@link SpectralConv2D}), optionally
 * Björck-orthonormalized (trained as {@link SpectralConv2D}: the orthonormal kernel written
 * back each step), and by `sqrt(windows)` (`prod ceil(k / s)`). The transposed
 * convolution is the adjoint of the convolution `filters -> cin` with the same kernel, whose
 * adjoint gathers at most `windows` taps per output: so the layer is `lipschitz`-Lipschitz in
 * l2. {@link lipschitzBound} certifies the exact operator norm with
 * {@link SpectralConv2DTranspose.effectiveKernel}. Channels-last, dilation 1; padding `'same'`
 * or `'valid'`. Exports to a standard `Conv2DTranspose`.
 */
export class SpectralConv2DTranspose extends Conv2DTransposeBase {
  /** Class name used for serialization. */
  static override className = 'SpectralConv2DTranspose';
  private readonly spectral: SpectralCore;

  constructor(args: SpectralConv2DTransposeArgs) {
    const options = resolveSpectral(args, CONTEXT);
    super(args);
    const problem = plainConvolutionProblem(this.dataFormat, this.dilationRate, args, CONTEXT);
    if (problem != null) throw new ArgumentError(problem);
    checkWeightOptions(this, args, CONTEXT);
    this.spectral = new SpectralCore(options, () => `${CONTEXT} '${this.name}'`,
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

  /** `[kh, kw, filters, cin]` as the matrix `[kh kw cin, filters]`. */
  private toMatrix(t: Tensor): Tensor2D {
    return tf.reshape(tf.transpose(t, [0, 1, 3, 2]), [-1, fields(this).filters]) as Tensor2D;
  }

  private fromMatrix(m: Tensor2D): Tensor4D {
    const [kh, kw, f, c] = this.kernelShape;
    return tf.transpose(tf.reshape(m, [kh, kw, c, f]), [0, 1, 3, 2]) as Tensor4D;
  }

  /**
   * The kernel the layer evaluates with at inference, `[kh, kw, filters, cin]`, certified and
   * cached until the weights change. Not to be disposed by the caller.
   */
  effectiveKernel(): Tensor4D {
    return runSync(this.effectiveKernelReads());
  }

  /** {@link effectiveKernel} as {@link TensorReads}. */
  effectiveKernelReads(): TensorReads<Tensor4D> {
    return this.spectral.inferenceKernelReads(fields(this).kernel, (t) => this.toMatrix(t), (m) => this.fromMatrix(m));
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs) as Tensor4D;
      const k = kwargs.training === true ?
        this.fromMatrix(this.spectral.trainingKernel(this.toMatrix(fields(this).kernel!.read()),
          (q) => fields(this).kernel!.write(this.fromMatrix(q)))) :
        this.effectiveKernel();
      const out = this.computeOutputShape(x.shape) as number[];
      const y: Tensor = tf.conv2dTranspose(x, k, [x.shape[0], out[1]!, out[2]!, out[3]!],
        this.strides as [number, number], this.padding as 'same' | 'valid');
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
tf.serialization.registerClass(SpectralConv2DTranspose);

/**
 * The operator norm of a transposed convolution on its input, from its adjoint: the
 * convolution `filters -> cin` with the same kernel (tfjs's `[kh, kw, filters, cin]` is that
 * convolution's `[kh, kw, in, out]`) on the transposed convolution's output shape, whose
 * output is the input shape (tf.conv2dTranspose is conv2d's input gradient). `||A||_2 =
 * ||A^T||_2`, `||A||_1 = ||A^T||_inf` and `||A||_inf = ||A^T||_1`.
 */
export function* transposedConvolutionNormReads(layer: tfl.layers.Layer & {kernelSize: number[], strides: number[],
    padding: string, computeOutputShape(s: tfl.Shape): tfl.Shape | tfl.Shape[]}, kernel: Tensor,
    context: LipschitzRuleContext): TensorReads<number> {
  const inShape = context.inputShape;
  if (inShape.slice(1).some((d) => d == null)) {
    throw new UnsupportedError(`lipschitzBound: layer '${layer.name}' (${layer.getClassName()}) needs a fully known input ` +
      `shape to bound its operator norm, got ${describe(inShape)}`);
  }
  const outShape = layer.computeOutputShape(inShape as tfl.Shape) as (number | null)[];
  const adjoint = {name: layer.name, getClassName: () => 'Conv2D', kernelSize: layer.kernelSize, strides: layer.strides,
    padding: layer.padding, dilationRate: [1, 1], dataFormat: 'channelsLast'} as unknown as tfl.layers.Layer;
  const norm = context.norm === 1 ? Infinity : context.norm === Infinity ? 1 : 2;
  return yield* convolutionNormReads(adjoint, {kernel}, {...context, norm, inputShape: outShape,
    activationFactor: context.activationFactor});
}

// The certified factor: the exact norm of the transposed convolution with the kernel `call`
// uses at inference (computed cold, as SpectralConv2D's).
registerLipschitzRule(SpectralConv2DTranspose.className, spectralConvolutionRule((layer, kernel, context) =>
  transposedConvolutionNormReads(layer as never, kernel, context)));

// The layer as a standard `Conv2DTranspose` with its effective kernel (the vector `u` left out).
registerStandardExport(SpectralConv2DTranspose.className, exportWithKernel(Conv2DTransposeBase,
  (l: SpectralConv2DTranspose) => Object.keys(l.spectralOptions), true));

/**
 * Creates a {@link SpectralConv2DTranspose} layer: `tf.layers.conv2dTranspose` arguments plus
 * `lipschitz`, `orthonormalize`, `bjorckSteps`, `powerIterations`.
 *
 * @example
 * ```ts
 * const up = spectralConv2dTranspose({filters: 8, kernelSize: 3, strides: 2, padding: 'same'});
 * ```
 */
export function spectralConv2dTranspose(args: SpectralConv2DTransposeArgs): SpectralConv2DTranspose {
  return new SpectralConv2DTranspose(args);
}
