/**
 * What the layers that normalise their kernel inside `call` (the spectral and Frobenius dense
 * and convolution layers) share: the tfjs-layers classes they extend, the fields of those
 * classes declared private, the end of `call`, the argument checks of the convolutions, the
 * certified rule of the spectral convolutions and the standard export.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import {UnsupportedError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import type {StandardExportContext} from '@deepspline/layers';
import {layerFields, registeredClasses} from '@deepspline/layers/internal';
import {activationConstant} from './activation_constants.js';
import type {TensorReads} from './reads.js';
import type {LipschitzRuleContext} from './rule_registry.js';

/** A tfjs-layers class by its registered name (tfjs-layers does not export its layer classes). */
export function registered<T>(className: string): T {
  const entry = registeredClasses()[className];
  if (entry == null) throw new UnsupportedError(`@deepspline/lipschitz: tfjs-layers did not register '${className}'`);
  return entry[0] as unknown as T;
}

/**
 * `sqrt` of the most windows one input pixel lies in, `prod min(k, ceil(k / s))`: every input
 * pixel lies in at most `ceil(k / s)` windows per axis, so `||conv|| <= convCoefficient *
 * ||kernel as a [kh kw cin, cout] matrix||` (zero padding adds nothing).
 */
export function convCoefficient(kernelSize: number[], strides: number[]): number {
  const windows = kernelSize.map((k, i) => Math.min(k, Math.ceil(k / strides[i]!)));
  return Math.sqrt(windows.reduce((a, b) => a * b, 1));
}

interface Activation { apply(x: Tensor): Tensor; getClassName(): string }

/** The fields of tfjs's Dense, Conv2D and Conv2DTranspose that their declarations mark private. */
interface LayerFields {
  units: number;
  filters: number;
  kernel: LayerVariable | null;
  bias: LayerVariable | null;
  activation: Activation;
}

/** The private fields of a Dense, Conv2D or Conv2DTranspose (or a subclass). */
export const fields = (layer: tfl.layers.Layer) => layerFields<LayerFields>(layer);

/** The end of a Dense or convolution call: `activation(y + bias)`. */
export function biasAndActivation(layer: tfl.layers.Layer, y: Tensor): Tensor {
  const {bias, activation} = fields(layer);
  return activation.apply(bias != null ? tf.add(y, bias.read()) : y);
}

/** A spectral layer as its certified rule sees it. */
interface SpectralLayer extends tfl.layers.Layer {
  effectiveKernelReads(): TensorReads<Tensor>;
}

/**
 * The certified factor of a spectral convolution: `norm` (the exact operator norm of the
 * convolution, or of the transposed one) with the kernel `call` uses at inference, computed
 * cold (no stored power-iteration vector), never the training-time estimate; times the
 * activation's constant.
 */
export function spectralConvolutionRule(norm: (layer: tfl.layers.Layer, kernel: Tensor4D,
    context: LipschitzRuleContext) => TensorReads<number>) {
  return function* (layer: tfl.layers.Layer, context: LipschitzRuleContext): TensorReads<number> {
    const l = layer as SpectralLayer;
    const act = context.activationFactor(activationConstant(fields(l).activation, layer));
    const cold = {...context, powerIteration: {...context.powerIteration, state: undefined}};
    // a copy: the cached kernel may be replaced (and disposed) while it is read
    const k = tf.clone(yield* l.effectiveKernelReads()) as Tensor4D;
    try {
      return (yield* norm(layer, k, cold)) * act;
    } finally {
      k.dispose();
    }
  };
}

/** A layer that normalises its kernel inside `call`, as its standard export sees it. */
interface KernelLayer extends tfl.layers.Layer {
  effectiveKernel(): Tensor;
}

/**
 * The standard export of a layer that normalises its kernel inside `call`: the standard layer
 * it extends (`base`: `Dense`, `Conv2D` or `Conv2DTranspose`), configured without the layer's
 * own `keys`, with the kernel `call` uses at inference (its `effectiveKernel`, disposed here
 * unless `cached`): same outputs, and it loads without this package.
 */
export function exportWithKernel<L extends KernelLayer>(base: unknown, keys: (layer: L) => string[], cached: boolean) {
  return (layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
      context: StandardExportContext): tfl.SymbolicTensor => {
    const l = layer as L;
    const config: tf.serialization.ConfigDict = {...l.getConfig(), name: context.uniqueName(l.name)};
    for (const key of ['batchInputShape', 'inputShape', ...keys(l)]) delete config[key];
    const cls = base as tf.serialization.SerializableConstructor<tfl.layers.Layer>;
    const standard = cls.fromConfig(cls, config);
    const y = standard.apply(inputs[0]!) as tfl.SymbolicTensor;
    const kernel = l.effectiveKernel();
    const {bias} = fields(l);
    standard.setWeights([kernel, ...(bias != null ? [bias.read()] : [])]);
    if (!cached) kernel.dispose();
    return y;
  };
}

/**
 * The message for a convolution layer's `dataFormat` and `dilationRate` (as built from `args`)
 * unless channels-last with dilation 1 (what the normalised convolutions support), `why` added
 * after `dilationRate 1`; null when they are.
 */
export function plainConvolutionProblem(dataFormat: string, dilationRate: number | number[],
    args: {dataFormat?: unknown, dilationRate?: unknown}, context: string, why = ''): string | null {
  if (dataFormat !== 'channelsLast') {
    return `${context}: expected dataFormat 'channelsLast', got ${describe(args.dataFormat)}`;
  }
  if ((dilationRate as number[]).some((d) => d !== 1)) {
    return `${context}: expected dilationRate 1${why}, got ${describe(args.dilationRate)}`;
  }
  return null;
}
