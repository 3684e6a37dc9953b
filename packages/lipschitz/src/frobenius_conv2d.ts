/**
 * `FrobeniusConv2D` (deel-lip's): a 2-D convolution whose kernel is divided by its Frobenius
 * norm (times the window coefficient) inside `call`.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import type {Conv2D, ConvLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import {registerStandardExport} from '@deepspline/layers';
import {argsObject, firstInput, lipschitzArg} from './layer_args.js';
import {activationConstant} from './activation_constants.js';
import {convolutionNormReads} from './conv_operator.js';
import {registerLipschitzRule} from './rule_registry.js';
import {biasAndActivation, convCoefficient, exportWithKernel, fields, plainConvolutionProblem,
  registered} from './kernel_layers.js';

/** Arguments of {@link frobeniusConv2d}: tfjs's `conv2d` arguments plus `lipschitz`. */
export interface FrobeniusConv2DArgs extends ConvLayerArgs {
  /** The layer's Lipschitz constant (l2) by construction. @defaultValue 1 */
  lipschitz?: number;
}

const CONTEXT = 'frobeniusConv2d';
const Conv2DBase = registered<typeof Conv2D>('Conv2D');

/**
 * A 2-D convolution with a Frobenius-normalised kernel (deel-lip's `FrobeniusConv2D`): the
 * kernel is `lipschitz * K / (||K||_F sqrt(windows))`, `windows` the most windows one input
 * pixel lies in (`prod ceil(k / s)`), in training and at inference. As `||conv|| <= sqrt(windows)
 * ||K as [kh kw cin, filters]||_2 <= sqrt(windows) ||K||_F`, the layer is `lipschitz`-Lipschitz
 * (l2). deel-lip divides by an average-based coefficient instead, which can leave the layer a
 * few percent above its constant; here the bound holds. {@link lipschitzBound} certifies the
 * exact operator norm of the convolution with {@link FrobeniusConv2D.effectiveKernel}.
 * Channels-last, dilation 1. Exports to a standard `Conv2D` with that kernel.
 */
export class FrobeniusConv2D extends Conv2DBase {
  /** Class name used for serialization. */
  static override className = 'FrobeniusConv2D';
  /** The layer's Lipschitz constant (l2) by construction. */
  readonly lipschitz: number;

  constructor(args: FrobeniusConv2DArgs) {
    const a = argsObject<FrobeniusConv2DArgs>(args, CONTEXT);
    const lipschitz = lipschitzArg(a.lipschitz, CONTEXT);
    super(a);
    const problem = plainConvolutionProblem(this.dataFormat, this.dilationRate, a, CONTEXT,
      ' (tfjs 4.22 has no gradient for dilated convolutions)');
    if (problem != null) throw new ArgumentError(problem);
    this.lipschitz = lipschitz;
  }

  /** The kernel `call` uses, `[kh, kw, cin, filters]` (differentiable; the caller disposes it). */
  effectiveKernel(): Tensor4D {
    const kernel = fields(this).kernel;
    if (kernel == null) throw new ArgumentError(`${CONTEXT} '${this.name}': the layer is not built yet; call it on an input first`);
    const scale = this.lipschitz / convCoefficient(this.kernelSize, this.strides);
    return tf.tidy(() => tf.mul(tf.div(kernel.read(), tf.maximum(tf.norm(kernel.read()), 1e-12)), scale) as Tensor4D);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const y = tf.conv2d(firstInput(inputs) as Tensor4D, this.effectiveKernel(), this.strides as [number, number],
        this.padding as 'same' | 'valid', 'NHWC', 1);
      return biasAndActivation(this, y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), lipschitz: this.lipschitz};
  }
}
tf.serialization.registerClass(FrobeniusConv2D);

// The exact (or proven) operator norm of the convolution with the kernel `call` uses.
registerLipschitzRule(FrobeniusConv2D.className, function* (layer, context) {
  const l = layer as FrobeniusConv2D;
  const act = context.activationFactor(activationConstant(fields(l).activation, layer));
  const k = l.effectiveKernel();
  try {
    return (yield* convolutionNormReads(layer, {kernel: k}, context)) * act;
  } finally {
    k.dispose();
  }
});

// The layer as a standard `Conv2D` with {@link FrobeniusConv2D.effectiveKernel} (same outputs).
registerStandardExport(FrobeniusConv2D.className, exportWithKernel(Conv2DBase, () => ['lipschitz'], false));

/**
 * Creates a {@link FrobeniusConv2D} layer: `tf.layers.conv2d` arguments plus `lipschitz`.
 *
 * @example
 * ```ts
 * const conv = frobeniusConv2d({filters: 1, kernelSize: 3, padding: 'same'});   // 1-Lipschitz
 * ```
 */
export function frobeniusConv2d(args: FrobeniusConv2DArgs): FrobeniusConv2D {
  return new FrobeniusConv2D(args);
}
