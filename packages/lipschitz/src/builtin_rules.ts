/**
 * The built-in Lipschitz rules: the layers of tfjs-layers (Dense, convolutions, pooling, batch
 * normalization, activations, shape-only layers) and SplineActivation, registered on import.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import {UnsupportedError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import type {SplineActivation} from '@deepspline/layers';
import {layerFields} from '@deepspline/layers/internal';
import {activationConstant} from './activation_constants.js';
import type {ActivationLike} from './activation_constants.js';
import {channelsLast, convolutionNormReads, knownShape} from './conv_operator.js';
import type {Conv2dPadding, ConvLike} from './conv_operator.js';
import {averagePoolNorm, windowAxis} from './conv_sums.js';
import {matrixNorm, roundUpSum} from './matrix_norm.js';
import type {Norm} from './matrix_norm.js';
import {take} from './reads.js';
import type {TensorReads} from './reads.js';
import {registerLipschitzRule} from './rule_registry.js';
import type {LipschitzRule} from './rule_registry.js';

const CONTEXT = 'lipschitzBound';

function* maxAbs(t: Tensor): TensorReads<number> {
  return (yield* take(tf.tidy(() => tf.max(tf.abs(t)))))[0]!;
}

/** `variable <- r * variable`. */
export function scaleVariable(v: LayerVariable, r: number): void {
  const next = tf.tidy(() => tf.mul(v.read(), r));
  v.write(next);
  next.dispose();
}

const denseRule: LipschitzRule = function* (layer, context) {
  const l = layerFields<{kernel: LayerVariable, activation?: ActivationLike}>(layer);
  const act = context.activationFactor(activationConstant(l.activation, layer));
  const k = l.kernel.read();
  const rescale = (r: number) => scaleVariable(l.kernel, r);
  if (context.method !== 'operator') return {factor: (yield* maxAbs(k)) * act, rescale};
  const [rows, cols] = k.shape as [number, number];
  // a clone holds the values of now, whatever the variable is assigned while it is read
  const values = yield* take(tf.clone(k));
  return {factor: matrixNorm(values, rows, cols, context.norm, context.powerIteration, context.key) * act, rescale};
};

const convRule: LipschitzRule = function* (layer, context) {
  const cls = layer.getClassName();
  const c = layerFields<ConvLike>(layer);
  channelsLast(layer);
  const act = context.activationFactor(activationConstant(c.activation, layer));
  const scaled = c.kernel ?? c.depthwiseKernel!;  // scaling it scales the whole operator
  const rescale = (r: number) => scaleVariable(scaled, r);
  if (context.method !== 'operator') {
    const kernels = cls === 'SeparableConv2D' ? [c.depthwiseKernel!, c.pointwiseKernel!] : [scaled];
    let factor = act;
    for (const k of kernels) factor *= yield* maxAbs(k.read());
    return {factor, rescale};
  }
  const norm = yield* convolutionNormReads(layer, {kernel: c.kernel?.read(), depthwise: c.depthwiseKernel?.read(),
    pointwise: c.pointwiseKernel?.read()}, context);
  return {factor: norm * act, rescale};
};

/** Number of copies of each input element in the output (RepeatVector, UpSampling). */
function copiesFactor(copies: number, p: Norm): number {
  return p === Infinity ? 1 : p === 1 ? copies : roundUpSum(Math.sqrt(copies), 1);
}

const poolRule: LipschitzRule = (layer, context) => {
  channelsLast(layer);
  const cls = layer.getClassName();
  const p = context.norm;
  const l = layerFields<{poolSize: number[], strides: number[], padding: Conv2dPadding}>(layer);
  const is1d = cls.endsWith('1D');
  const pool: [number, number] = is1d ? [l.poolSize[0]!, 1] : [l.poolSize[0]!, l.poolSize[1]!];
  const strides: [number, number] = is1d ? [l.strides[0]!, 1] : [l.strides[0]!, l.strides[1]!];
  if (cls.startsWith('MaxPooling')) {
    // |max_W x - max_W y| <= max_W |x - y|; each input lies in at most m windows.
    const m = Math.ceil(pool[0] / strides[0]) * Math.ceil(pool[1] / strides[1]);
    return p === Infinity ? 1 : p === 1 ? m : roundUpSum(Math.sqrt(m), 1);
  }
  const inShape = knownShape(layer, context.inputShape);
  const axes = [windowAxis(inShape[0]!, pool[0], strides[0], l.padding)];
  if (!is1d) axes.push(windowAxis(inShape[1]!, pool[1], strides[1], l.padding));
  return averagePoolNorm(axes, p);
};

const globalPoolRule: LipschitzRule = (layer, context) => {
  channelsLast(layer);
  const p = context.norm;
  if (layer.getClassName().startsWith('GlobalMax') || p === Infinity) return 1;
  const spatial = context.inputShape.slice(1, -1);
  if (spatial.some((d) => d == null)) return 1;  // 1 bounds 1/n and 1/sqrt(n) for any n >= 1
  const n = (spatial as number[]).reduce((a, b) => a * b, 1);
  return roundUpSum(p === 1 ? 1 / n : 1 / Math.sqrt(n), 1);
};

// max |gamma| / sqrt(variance + epsilon) in float64 from the float32 weights, rounded up (an
// add, a square root and a division, each within 2^-53): a certificate, where the float32
// quotient rounds to nearest.
const batchNormRule: LipschitzRule = function* (layer) {
  const l = layerFields<{gamma?: LayerVariable | null, movingVariance: LayerVariable,
    epsilon: number}>(layer);
  const variance = yield* take(tf.clone(l.movingVariance.read()));
  const gamma = l.gamma != null ? yield* take(tf.clone(l.gamma.read())) : null;
  let best = 0;
  for (let i = 0; i < variance.length; ++i) {
    const g = gamma != null ? Math.abs(gamma[i]!) : 1;
    const f = g / Math.sqrt(variance[i]! + l.epsilon);
    best = Math.max(best, f);  // NaN stays NaN
  }
  return best * (1 + 2 ** -50);
};

/**
 * The largest segment slope `max |c[k+1] - c[k]| / step` of float32 coefficients, in float64
 * and rounded up: the difference of two float32 numbers is exact in float64 (unless their
 * exponents differ by more than 29, when it rounds by at most 2^-53 relative), the quotient
 * rounds by at most 2^-53, and a relative 2^-50 covers both. (The float32 `splineLipschitz`
 * rounds to nearest, below the exact slope as often as above: not a certificate.) NaN
 * coefficients give NaN.
 */
function largestSlope(c: ArrayLike<number>, channels: number, size: number, step: number): number {
  let best = 0;
  for (let r = 0; r < channels; ++r) {
    for (let k = r * size; k < (r + 1) * size - 1; ++k) best = Math.max(best, Math.abs(c[k + 1]! - c[k]!));
  }
  return best / step * (1 + 2 ** -50);
}

const splineRule: LipschitzRule = function* (layer, context) {
  const spline = layer as SplineActivation;
  const paper = context.method !== 'operator';
  let factor: number;
  if (paper) {
    factor = Array.from(yield* take(spline.bv2())).reduce((a, b) => a + b, 0);
  } else {
    const c = spline.effectiveCoefficients();
    const [channels, size] = c.shape;
    factor = largestSlope(yield* take(c), channels, size, spline.step);
  }
  const rescale = (r: number) => spline.clipSlopes(r * factor);
  return {factor, rescale};
};

const one: LipschitzRule = () => 1;
for (const cls of ['InputLayer', 'Flatten', 'Reshape', 'Dropout', 'SpatialDropout1D', 'GaussianNoise',
  'GaussianDropout', 'AlphaDropout', 'Permute', 'ZeroPadding2D', 'Cropping2D']) {
  registerLipschitzRule(cls, one);
}
registerLipschitzRule('Dense', denseRule);
for (const cls of ['Conv1D', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']) registerLipschitzRule(cls, convRule);
registerLipschitzRule('BatchNormalization', batchNormRule);
for (const cls of ['AveragePooling1D', 'AveragePooling2D', 'MaxPooling1D', 'MaxPooling2D']) {
  registerLipschitzRule(cls, poolRule);
}
for (const cls of ['GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D']) {
  registerLipschitzRule(cls, globalPoolRule);
}
registerLipschitzRule('Activation', (layer, context) => context.activationFactor(
  activationConstant(layerFields<{activation: ActivationLike}>(layer).activation, layer)));
registerLipschitzRule('ReLU', (_layer, context) => context.activationFactor(1));
for (const cls of ['LeakyReLU', 'ELU']) {
  registerLipschitzRule(cls, (layer, context) =>
    context.activationFactor(Math.max(1, Math.abs(layerFields<{alpha: number}>(layer).alpha))));
}
registerLipschitzRule('PReLU', function* (layer, context) {
  return context.activationFactor(Math.max(1, yield* maxAbs(layerFields<{alpha: LayerVariable}>(layer).alpha.read())));
});
registerLipschitzRule('Softmax', (_layer, context) => context.activationFactor(0.5));
registerLipschitzRule('RepeatVector', (layer, context) =>
  copiesFactor(layerFields<{n: number}>(layer).n, context.norm));
registerLipschitzRule('UpSampling2D', (layer, context) => {
  const l = layerFields<{size: number[], interpolation?: string}>(layer);
  if (l.interpolation != null && l.interpolation !== 'nearest') {
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' (UpSampling2D) uses interpolation ` +
      `${describe(l.interpolation)}; only 'nearest' is supported`);
  }
  return copiesFactor(l.size[0]! * l.size[1]!, context.norm);
});
registerLipschitzRule('SplineActivation', splineRule);

