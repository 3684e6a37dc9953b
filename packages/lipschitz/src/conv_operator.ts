/**
 * A convolution layer (Conv1D/2D, DepthwiseConv2D, SeparableConv2D, dilated or strided, with
 * its padding) as a linear operator on its input shape, and the bound on its norm: the exact
 * matrix when small, else the float64 sums (norms 1, Infinity) or the Fourier symbols (norm 2)
 * of its kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import {layerFields} from '@deepspline/layers/internal';
import type {ActivationLike} from './activation_constants.js';
import {circulantConvNorm} from './conv_fourier.js';
import {windowAxis, windowSumNorm} from './conv_sums.js';
import type {WindowAxis} from './conv_sums.js';
import {roundUpSum} from './matrix_norm.js';
import {tensorOpNormReads} from './operator_norm.js';
import type {LinearTensorOp} from './operator_norm.js';
import {runSync, take} from './reads.js';
import type {TensorReads} from './reads.js';
import type {LipschitzRuleContext} from './rule_registry.js';

const CONTEXT = 'lipschitzBound';

/** The input shape of `layer` without the batch axis; throws unless every size is known. */
export function knownShape(layer: tfl.layers.Layer, shape: readonly (number | null)[]): number[] {
  const rest = shape.slice(1);
  if (rest.some((d) => d == null || !(d > 0))) {
    throw new ArgumentError(`${CONTEXT}: layer '${layer.name}' (${layer.getClassName()}) needs a fully ` +
      `known input shape to bound its operator norm, got ${describe(shape)}`);
  }
  return rest as number[];
}

/** Throws unless `layer` (a convolution or pooling layer) uses `channelsLast` data. */
export function channelsLast(layer: tfl.layers.Layer): void {
  const format = layerFields<{dataFormat?: string}>(layer).dataFormat;
  if (format != null && format !== 'channelsLast') {
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' (${layer.getClassName()}) uses dataFormat ` +
      `${describe(format)}; only 'channelsLast' is supported`);
  }
}

/** The fields of a convolution layer that its operator reads. */
export interface ConvLike {
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dilationRate: number[];
  kernelSize: number[];
  kernel?: LayerVariable;
  depthwiseKernel?: LayerVariable;
  pointwiseKernel?: LayerVariable;
  activation?: ActivationLike;
}

/** The paddings of a 2-D convolution or pooling window. */
export type Conv2dPadding = 'valid' | 'same';

/**
 * The kernel of a dilated convolution as an undilated one (zeros between the taps): tfjs has
 * no gradient for dilated convolutions, which the adjoint needs. Spatial axes come first.
 */
function* dilateKernel(k: Tensor, rates: number[]): TensorReads<Tensor> {
  if (rates.every((r) => r === 1)) return tf.clone(k);
  const data = yield k;
  const spatial = rates.length;
  const inner = k.shape.slice(spatial).reduce((a, b) => a * b, 1);
  const oldDims = k.shape.slice(0, spatial);
  const newDims = oldDims.map((d, i) => (d - 1) * rates[i]! + 1);
  const out = new Float32Array(newDims.reduce((a, b) => a * b, 1) * inner);
  const count = oldDims.reduce((a, b) => a * b, 1);
  for (let idx = 0; idx < count; ++idx) {
    let rest = idx;
    let target = 0;
    for (let i = 0; i < spatial; ++i) {
      const stride = oldDims.slice(i + 1).reduce((a, b) => a * b, 1);
      const coord = Math.floor(rest / stride);
      rest %= stride;
      target = target * newDims[i]! + coord * rates[i]!;
    }
    out.set(data.subarray(idx * inner, (idx + 1) * inner), target * inner);
  }
  return tf.tensor(out, [...newDims, ...k.shape.slice(spatial)]);
}

/**
 * A depthwise kernel `[kh, kw, cin, m]` as the regular convolution kernel
 * `[kh, kw, cin, cin m]` that computes the same map: input channel `i` feeds output channels
 * `i m .. i m + m - 1` only (tfjs's channel order).
 */
function blockDiagonal(k: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cin, m] = k.shape;
  return tf.tidy(() => tf.reshape(tf.mul(tf.reshape(k, [kh, kw, cin, 1, m]), tf.reshape(tf.eye(cin), [1, 1, cin, cin, 1])),
    [kh, kw, cin, cin * m]));
}

/** The kernels a convolution layer evaluates with. */
export interface ConvKernels {
  /** `Conv1D`/`Conv2D`: the kernel. */
  kernel?: Tensor;
  /** `DepthwiseConv2D`/`SeparableConv2D`: the depthwise kernel. */
  depthwise?: Tensor;
  /** `SeparableConv2D`: the pointwise kernel. */
  pointwise?: Tensor;
}

/**
 * The linear operator (no bias, no activation) of a tfjs convolution layer on `inShape`,
 * with the given kernels (the layer's own, or the effective ones of a normalised layer).
 * The caller disposes it.
 */
export function* convolutionOperator(layer: tfl.layers.Layer, inShape: number[], kernels: ConvKernels):
    TensorReads<{op: LinearTensorOp, dispose: () => void}> {
  const cls = layer.getClassName();
  const c = layerFields<ConvLike>(layer);
  const owned: Tensor[] = [];
  const dispose = () => owned.forEach((t) => t.dispose());
  const abs = (t: Tensor) => { const a = tf.abs(t); owned.push(a); return a; };
  // tfjs-layers 4.22's DepthwiseConv2D ignores its dilationRate when called (it passes
  // none to tf.depthwiseConv2d), so the bound follows what the layer really computes.
  const rates = cls === 'DepthwiseConv2D' ? c.dilationRate.map(() => 1) : c.dilationRate;
  // The spatial kernel, dilated (a copy: the operator keeps the values of now). The pointwise
  // kernel of SeparableConv2D is 1x1.
  const spatial = yield* dilateKernel(
    (cls === 'DepthwiseConv2D' || cls === 'SeparableConv2D' ? kernels.depthwise : kernels.kernel)!, rates);
  owned.push(spatial);
  let apply: (x: Tensor, abs: boolean) => Tensor;
  if (cls === 'Conv1D') {
    const k = spatial as tf.Tensor3D;
    const ka = abs(k) as tf.Tensor3D;
    const causal = c.padding === 'causal';
    apply = (x, a) => {
      let xin = x as tf.Tensor3D;
      if (causal) xin = tf.pad(xin, [[0, 0], [k.shape[0] - 1, 0], [0, 0]]);
      return tf.conv1d(xin, a ? ka : k, c.strides[0]!, causal ? 'valid' : c.padding as Conv2dPadding, 'NWC', 1);
    };
  } else if (cls === 'DepthwiseConv2D' || cls === 'SeparableConv2D') {
    // The depthwise convolution as a regular one with a block-diagonal kernel: its adjoint
    // (autodiff) is then Conv2DBackpropInput, which every backend has, where the wasm
    // backend has no DepthwiseConv2dNativeBackpropInput. SeparableConv2D: then pointwise 1x1.
    const k = blockDiagonal(spatial as tf.Tensor4D);
    owned.push(k);
    const ka = abs(k) as tf.Tensor4D;
    const pk = cls === 'SeparableConv2D' ? tf.clone(kernels.pointwise!) as tf.Tensor4D : null;
    if (pk != null) owned.push(pk);
    const pka = pk != null ? abs(pk) as tf.Tensor4D : null;
    apply = (x, a) => {
      const y = tf.conv2d(x as tf.Tensor4D, a ? ka : k, c.strides as [number, number], c.padding as Conv2dPadding,
        'NHWC', 1);
      return pk != null ? tf.conv2d(y, a ? pka! : pk, 1, 'valid', 'NHWC', 1) : y;
    };
  } else {  // Conv2D and layers that compute as it does
    const k = spatial as tf.Tensor4D;
    const ka = abs(k) as tf.Tensor4D;
    apply = (x, a) => tf.conv2d(x as tf.Tensor4D, a ? ka : k, c.strides as [number, number],
      c.padding as Conv2dPadding, 'NHWC', 1);
  }
  return {op: {inShape, apply: (x) => apply(x, false), applyAbs: (x) => apply(x, true)}, dispose};
}

/** The operator norm of a convolution layer's linear part with the given kernels. */
export function convolutionNorm(layer: tfl.layers.Layer, kernels: ConvKernels, context: LipschitzRuleContext): number {
  return runSync(convolutionNormReads(layer, kernels, context));
}

/** A convolution's class, its (dilated) spatial kernel read as float32 values, and its window axes. */
interface ConvGeometry {
  cls: string;
  /** DepthwiseConv2D or SeparableConv2D: the spatial kernel is the depthwise one. */
  depthwise: boolean;
  shape: number[];
  k: Float32Array;
  rows: WindowAxis;
  cols: WindowAxis;
}

function* convolutionGeometry(layer: tfl.layers.Layer, inShape: number[], kernels: ConvKernels):
    TensorReads<ConvGeometry> {
  const cls = layer.getClassName();
  const c = layerFields<ConvLike>(layer);
  const depthwise = cls === 'DepthwiseConv2D' || cls === 'SeparableConv2D';
  const rates = cls === 'DepthwiseConv2D' ? c.dilationRate.map(() => 1) : c.dilationRate;
  const spatial = yield* dilateKernel((depthwise ? kernels.depthwise : kernels.kernel)!, rates);
  const shape = spatial.shape;
  const k = yield* take(spatial);
  const rows = windowAxis(inShape[0]!, shape[0]!, c.strides[0]!, c.padding);
  const cols: WindowAxis = cls === 'Conv1D' ? windowAxis(1, 1, 1, 'valid') :
    windowAxis(inShape[1]!, shape[1]!, c.strides[1]!, c.padding);
  return {cls, depthwise, shape, k: k as Float32Array, rows, cols};
}

/**
 * The 1 or Infinity norm of a convolution layer's operator in float64 from its float32
 * kernels ({@link windowSumNorm}), rounded up. For SeparableConv2D, of `|P| |D|` (pointwise
 * times depthwise, entrywise absolute values): `>= |P D|`, an upper bound.
 */
function* convolutionSumNorm(layer: tfl.layers.Layer, inShape: number[], kernels: ConvKernels,
    p: 1 | typeof Infinity): TensorReads<number> {
  const {cls, depthwise, shape, k, rows, cols} = yield* convolutionGeometry(layer, inShape, kernels);
  const taps = rows.window * cols.window;
  // [taps, cin, last]: last = output channels (convolutions) or the depth multiplier
  const cin = shape[shape.length - 2]!;
  const last = shape[shape.length - 1]!;
  const at = (t: number, i: number, j: number) => Math.abs(k[(t * cin + i) * last + j]!);
  let channels: number;
  let terms: number;
  let sums: Float64Array;
  if (cls === 'SeparableConv2D') {
    const pw = yield* take(tf.clone(kernels.pointwise!));  // [1, 1, cin * last, cout]
    const cout = kernels.pointwise!.shape[3]!;
    const pAbs = (m: number, o: number) => Math.abs(pw[m * cout + o]!);
    if (p === Infinity) {
      [channels, terms] = [cout, cin * last];
      sums = new Float64Array(taps * cout);
      for (let t = 0; t < taps; ++t) {
        for (let i = 0; i < cin; ++i) {
          for (let j = 0; j < last; ++j) {
            const d = at(t, i, j);
            for (let o = 0; o < cout; ++o) sums[t * cout + o] += d * pAbs(i * last + j, o);
          }
        }
      }
    } else {
      [channels, terms] = [cin, last * (cout + 1)];
      const out = new Float64Array(cin * last);
      for (let m = 0; m < cin * last; ++m) for (let o = 0; o < cout; ++o) out[m] += pAbs(m, o);
      sums = new Float64Array(taps * cin);
      for (let t = 0; t < taps; ++t) {
        for (let i = 0; i < cin; ++i) for (let j = 0; j < last; ++j) sums[t * cin + i] += at(t, i, j) * out[i * last + j]!;
      }
    }
  } else if (cls === 'DepthwiseConv2D') {  // output channel i * last + j reads input channel i
    [channels, terms] = p === Infinity ? [cin * last, 1] : [cin, last];
    sums = new Float64Array(taps * channels);
    for (let t = 0; t < taps; ++t) {
      for (let i = 0; i < cin; ++i) {
        for (let j = 0; j < last; ++j) sums[t * channels + (p === Infinity ? i * last + j : i)] += at(t, i, j);
      }
    }
  } else {
    [channels, terms] = p === Infinity ? [last, cin] : [cin, last];
    sums = new Float64Array(taps * channels);
    for (let t = 0; t < taps; ++t) {
      for (let i = 0; i < cin; ++i) {
        for (let j = 0; j < last; ++j) sums[t * channels + (p === Infinity ? j : i)] += at(t, i, j);
      }
    }
  }
  return windowSumNorm(rows, cols, sums, channels, terms, p);
}

/**
 * A proven 2-norm bound of a convolution layer's operator from its kernels alone
 * ({@link circulantConvNorm}: the largest norm of the kernel's symbol over the frequencies of
 * a torus that holds the padded input). SeparableConv2D: of the effective kernel
 * `K[t, i, o] = sum_j D[t, i, j] P[i m + j, o]`, formed in float64 (its rounding is in the
 * error allowance).
 */
function* convolutionFourierNorm(layer: tfl.layers.Layer, inShape: number[], kernels: ConvKernels):
    TensorReads<number> {
  const {cls, depthwise, shape, k, rows, cols} = yield* convolutionGeometry(layer, inShape, kernels);
  const window: [number, number] = [rows.window, cols.window];
  const cin = shape[shape.length - 2]!;
  const last = shape[shape.length - 1]!;
  if (cls !== 'SeparableConv2D') {
    return circulantConvNorm({values: k, absValues: k.map(Math.abs), window, cin, last, depthwise, error: 0}, rows, cols);
  }
  const pw = yield* take(tf.clone(kernels.pointwise!));  // [1, 1, cin * last, cout]
  const cout = kernels.pointwise!.shape[3]!;
  const taps = rows.window * cols.window;
  const values = new Float64Array(taps * cin * cout);
  const absValues = new Float64Array(taps * cin * cout);
  for (let t = 0; t < taps; ++t) {
    for (let i = 0; i < cin; ++i) {
      for (let j = 0; j < last; ++j) {
        const d = k[(t * cin + i) * last + j]!;
        for (let o = 0; o < cout; ++o) {
          const e = (t * cin + i) * cout + o;
          const pv = pw[(i * last + j) * cout + o]!;
          values[e] += d * pv;  // float32 products are exact in float64
          absValues[e] += Math.abs(d * pv);
        }
      }
    }
  }
  const error = last * 2 ** -53 / (1 - last * 2 ** -53);  // a float64 sum of `last` terms
  return circulantConvNorm({values, absValues, window, cin, last: cout, depthwise: false, error}, rows, cols);
}

/** The input and output sizes of a convolution layer's operator on `inShape`. */
function convolutionSizes(layer: tfl.layers.Layer, inShape: number[], kernels: ConvKernels): [number, number] {
  const cls = layer.getClassName();
  const c = layerFields<ConvLike>(layer);
  const rates = cls === 'DepthwiseConv2D' ? c.dilationRate.map(() => 1) : c.dilationRate;
  const depthwise = cls === 'DepthwiseConv2D' || cls === 'SeparableConv2D';
  const shape = (depthwise ? kernels.depthwise : kernels.kernel)!.shape;
  let outputs = 1;
  for (let a = 0; a < inShape.length - 1; ++a) {
    outputs *= windowAxis(inShape[a]!, (shape[a]! - 1) * rates[a]! + 1, c.strides[a]!, c.padding).out;
  }
  const channels = cls === 'SeparableConv2D' ? kernels.pointwise!.shape[3]! :
    cls === 'DepthwiseConv2D' ? shape[2]! * shape[3]! : shape[shape.length - 1]!;
  return [inShape.reduce((a, b) => a * b, 1), outputs * channels];
}

/**
 * {@link convolutionNorm} as {@link TensorReads}. Norm 2: the exact matrix's proven norm
 * for operators of at most `explicitLimit` entries; otherwise the smaller of two proven
 * bounds, the Fourier one ({@link convolutionFourierNorm}) and `sqrt(||A||_1 ||A||_Inf)`.
 */
export function* convolutionNormReads(layer: tfl.layers.Layer, kernels: ConvKernels,
    context: LipschitzRuleContext): TensorReads<number> {
  channelsLast(layer);
  const inShape = knownShape(layer, context.inputShape);
  if (context.norm !== 2) return yield* convolutionSumNorm(layer, inShape, kernels, context.norm);
  const [n, outSize] = convolutionSizes(layer, inShape, kernels);
  if (n * outSize > (context.powerIteration.explicitLimit ?? 1e6)) {
    const fourier = yield* convolutionFourierNorm(layer, inShape, kernels);
    const schur = roundUpSum(Math.sqrt((yield* convolutionSumNorm(layer, inShape, kernels, 1)) *
      (yield* convolutionSumNorm(layer, inShape, kernels, Infinity))), 1);
    return Math.min(fourier, schur);
  }
  const {op, dispose} = yield* convolutionOperator(layer, inShape, kernels);
  try {
    return yield* tensorOpNormReads(op, context.norm, context.powerIteration, context.key);
  } finally {
    dispose();
  }
}
