/**
 * The per-layer Lipschitz rules of {@link lipschitzBound}, in one registry keyed by layer
 * class name. Adding a layer type is one {@link registerLipschitzRule} call; users bound their
 * own layers the same way (as deel-lip's `type2sv` table).
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import {describe} from '@deepspline/core/internal';
import type {SplineActivation} from '@deepspline/layers';
import {averagePoolNorm, windowAxis, windowSumNorm} from './conv_sums.js';
import {circulantConvNorm} from './conv_fourier.js';
import type {WindowAxis} from './conv_sums.js';
import {matrixNorm, roundUpSum} from './matrix_norm.js';
import {tensorOpNormReads} from './operator_norm.js';
import type {LinearTensorOp} from './operator_norm.js';
import type {Norm} from './matrix_norm.js';
import type {PowerIterationOptions} from './power_iteration.js';
import {runSync, take} from './reads.js';
import type {TensorReads} from './reads.js';
import {layerFields} from '@deepspline/layers/internal';

/**
 * How {@link lipschitzBound} bounds the network:
 * - `'operator'`: products of operator norms (a guaranteed upper bound);
 * - `'paper'`: the reference's (DeepSplines') number, `prod max |W| * prod sum BV2`, taken
 *   before the model's output activation as the reference computes it;
 * - `'paperOnOutput'`: the same product times the output activation's constant (for a
 *   sigmoid output, 1/4 of `'paper'`): the reference's formula applied to the probabilities.
 */
export type BoundMethod = 'operator' | 'paper' | 'paperOnOutput';

/** The bound methods, for validation messages. */
export const BOUND_METHODS: readonly BoundMethod[] = ['operator', 'paper', 'paperOnOutput'];

/** What a rule is told about the layer it bounds. */
export interface LipschitzRuleContext {
  /** The vector norm on the layer's input and output. */
  readonly norm: Norm;
  /** The bound method. */
  readonly method: BoundMethod;
  /** The layer's input shape, batch axis first (`null` for unknown sizes). */
  readonly inputShape: readonly (number | null)[];
  /**
   * Whether the layer's output is an output of the model being bounded, possibly through
   * shape-only layers (`Reshape`, `Flatten`, `Permute`, dropout and noise layers).
   */
  readonly isOutput: boolean;
  /** Options for power iterations (norm 2): pass them on to {@link matrixNorm}/{@link tensorOpNorm}. */
  readonly powerIteration: PowerIterationOptions;
  /** A key unique to this layer and input shape, for warm-start state. */
  readonly key: string;
  /**
   * The factor of an activation with Lipschitz constant `constant`: the constant itself,
   * except 1 under `method: 'paper'` for an activation that produces the model's output (the
   * reference bounds the network before its output activation).
   */
  activationFactor(constant: number): number;
}

/** A rule's answer when it can do more than give a number. */
export interface LipschitzFactor {
  /** The layer's Lipschitz factor (finite, >= 0). */
  factor: number;
  /**
   * Multiplies the layer's factor by `r` (0 < r <= 1) by changing its weights. Layers that
   * have it are the ones `lipschitzCallback({mode: 'constrain'})` shrinks; the others keep
   * their factor.
   */
  rescale?: (r: number) => void;
}

/**
 * A rule: the Lipschitz factor of one layer (a number, or a {@link LipschitzFactor}). It must
 * be an upper bound of the layer's Lipschitz constant in `context.norm` (for the `'paper'`
 * methods, the reference's per-layer quantity).
 *
 * A rule that reads tensor values should be a generator function ({@link TensorReads}):
 * `const values = yield tensor;` instead of `tensor.dataSync()`. Then {@link lipschitzBound}
 * answers with `dataSync()` and `lipschitzBoundAsync` with `await data()`, so the async bound
 * never reads synchronously (which the webgpu backend cannot do well, or at all under
 * SwiftShader). A plain function works too, but reads synchronously in both.
 *
 * @example
 * ```ts
 * // a layer that multiplies its input by a trainable scalar `scale`
 * registerLipschitzRule('Scale', function* (layer) {
 *   const s = tf.abs((layer as Scale).scale.read());
 *   try { return (yield s)[0]!; } finally { s.dispose(); }
 * });
 * ```
 */
export type LipschitzRule = (layer: tfl.layers.Layer, context: LipschitzRuleContext) =>
  number | LipschitzFactor | TensorReads<number | LipschitzFactor>;

const RULES = new Map<string, LipschitzRule>();

/**
 * Registers (or replaces) the rule of the layers whose `getClassName()` is `className`.
 *
 * @example
 * ```ts
 * // a layer that multiplies its input by a fixed scale
 * registerLipschitzRule('Scale', (layer) => Math.abs((layer as Scale).scale));
 * ```
 */
export function registerLipschitzRule(className: string, rule: LipschitzRule): void {
  if (typeof className !== 'string' || className === '') {
    throw new ArgumentError(`registerLipschitzRule: expected a layer class name (non-empty string), got ${describe(className)}`);
  }
  if (typeof rule !== 'function') {
    throw new ArgumentError(`registerLipschitzRule: expected a rule function (layer, context) => factor for ` +
      `'${className}', got ${describe(rule)}`);
  }
  RULES.set(className, rule);
}

/** The rule registered for `className`, or `undefined`. */
export function lipschitzRule(className: string): LipschitzRule | undefined {
  return RULES.get(className);
}

/** Class names that have a rule, sorted. */
export function lipschitzRuleNames(): string[] {
  return [...RULES.keys()].sort();
}

/** Lipschitz constants of tfjs-layers' activation functions (by class name). */
export const ACTIVATION_LIPSCHITZ: Readonly<Record<string, number>> = Object.freeze({
  linear: 1,
  relu: 1,
  relu6: 1,
  elu: 1,               // alpha = 1 in tfjs's elu activation
  selu: 1.0507009873554805 * 1.6732632423543772,  // scale * alpha, the slope at 0-
  sigmoid: 0.25,
  hardSigmoid: 0.2,
  tanh: 1,
  softplus: 1,
  softsign: 1,
  softmax: 0.5,         // Jacobian diag(s) - s s^T: every row/column abs sum 2 s_i (1 - s_i) <= 1/2
  swish: 1.0999,        // max |d/dx x sigmoid(x)| = 1.09984...
  mish: 1.0886,         // 1.08850...
  gelu: 1.1290,         // 1.12890...
  gelu_new: 1.1291,     // 1.12899...
});

const CONTEXT = 'lipschitzBound';

/** A tfjs activation object (what a layer's `activation` field holds). */
export interface ActivationLike {
  /** The activation's registered name, e.g. `'relu'`. */
  getClassName(): string;
}
type Activation = ActivationLike;

/** The Lipschitz constant of a tfjs activation object (fused or in an `Activation` layer). */
export function activationConstant(act: Activation | null | undefined, layer: tfl.layers.Layer): number {
  if (act == null) return 1;
  const name = act.getClassName();
  const c = Object.prototype.hasOwnProperty.call(ACTIVATION_LIPSCHITZ, name) ? ACTIVATION_LIPSCHITZ[name] : undefined;
  if (c === undefined) {
    throw new UnsupportedError(`${CONTEXT}: unsupported activation '${name}' in layer '${layer.name}'; supported: ` +
      `${Object.keys(ACTIVATION_LIPSCHITZ).join(', ')}`);
  }
  return c;
}

function knownShape(layer: tfl.layers.Layer, shape: readonly (number | null)[]): number[] {
  const rest = shape.slice(1);
  if (rest.some((d) => d == null || !(d > 0))) {
    throw new ArgumentError(`${CONTEXT}: layer '${layer.name}' (${layer.getClassName()}) needs a fully ` +
      `known input shape to bound its operator norm, got ${describe(shape)}`);
  }
  return rest as number[];
}

function channelsLast(layer: tfl.layers.Layer): void {
  const format = layerFields<{dataFormat?: string}>(layer).dataFormat;
  if (format != null && format !== 'channelsLast') {
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' (${layer.getClassName()}) uses dataFormat ` +
      `${describe(format)}; only 'channelsLast' is supported`);
  }
}

function* maxAbs(t: Tensor): TensorReads<number> {
  return (yield* take(tf.tidy(() => tf.max(tf.abs(t)))))[0]!;
}

/** `variable <- r * variable`. */
export function scaleVariable(v: LayerVariable, r: number): void {
  const next = tf.tidy(() => tf.mul(v.read(), r));
  v.write(next);
  next.dispose();
}

interface ConvLike {
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dilationRate: number[];
  kernelSize: number[];
  kernel?: LayerVariable;
  depthwiseKernel?: LayerVariable;
  pointwiseKernel?: LayerVariable;
  activation?: Activation;
}

type Conv2dPadding = 'valid' | 'same';

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

const denseRule: LipschitzRule = function* (layer, context) {
  const l = layerFields<{kernel: LayerVariable, activation?: Activation}>(layer);
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
  activationConstant(layerFields<{activation: Activation}>(layer).activation, layer)));
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
