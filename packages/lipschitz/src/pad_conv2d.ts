/**
 * `PadConv2D` (deel-lip's): a 2-D convolution with the padding modes Conv2D lacks — zero
 * (`'constant'`), `'reflect'`, `'symmetric'` and `'circular'` — by `kernelSize // 2` on each
 * side, then a `'valid'` convolution.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor, Tensor4D} from '@tensorflow/tfjs-core';
import type {Conv2D, ConvLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import type {StandardExportContext} from '@deepspline/layers';
import {argsObject, firstInput, imageShape, singleShape} from './layer_args.js';
import {matrixNorm, roundUpSum} from './matrix_norm.js';
import {tensorOpNormReads} from './operator_norm.js';
import {take} from './reads.js';
import type {TensorReads} from './reads.js';
import {activationConstant} from './activation_constants.js';
import {convolutionNormReads} from './conv_operator.js';
import {registerLipschitzRule} from './rule_registry.js';
import {scaleVariable} from './builtin_rules.js';
import {biasAndActivation, fields, registered} from './kernel_layers.js';

/** The padding modes of {@link padConv2d}. */
export type PadConv2DPadding = 'same' | 'valid' | 'constant' | 'reflect' | 'symmetric' | 'circular';
const PADDINGS: readonly PadConv2DPadding[] = ['same', 'valid', 'constant', 'reflect', 'symmetric', 'circular'];

/** Arguments of {@link padConv2d}: tfjs's `conv2d` arguments with the wider `padding`. */
export interface PadConv2DArgs extends Omit<ConvLayerArgs, 'padding'> {
  /**
   * `'same'` and `'valid'` as Conv2D; `'constant'` (zeros), `'reflect'` (mirror without the
   * edge: `c b | a b c | b a`), `'symmetric'` (mirror with the edge: `b a | a b c | c b`),
   * `'circular'` (wrap around: `b c | a b c | a b`), each by `kernelSize // 2` per side.
   * @defaultValue 'same'
   */
  padding?: PadConv2DPadding;
}

const CONTEXT = 'padConv2d';
const Conv2DBase = registered<typeof Conv2D>('Conv2D');

/**
 * The source index of every position of an axis of size `n` padded by `p` on each side in
 * `mode` (`-1`: a zero). Throws if the mode cannot pad that much.
 */
export function padIndices(n: number, p: number, mode: PadConv2DPadding, context: string): number[] {
  const limit = mode === 'reflect' ? n - 1 : n;
  if (mode !== 'constant' && p > limit) {
    throw new ArgumentError(`${context}: padding '${mode}' by ${p} needs an axis of at least ${mode === 'reflect' ? p + 1 : p}, got ${n}`);
  }
  const out: number[] = [];
  for (let i = -p; i < n + p; ++i) {
    if (i >= 0 && i < n) out.push(i);
    else if (mode === 'constant') out.push(-1);
    else if (mode === 'circular') out.push((i + n) % n);
    else if (mode === 'reflect') out.push(i < 0 ? -i : 2 * (n - 1) - i);
    else out.push(i < 0 ? -i - 1 : 2 * n - 1 - i);  // symmetric
  }
  return out;
}

/** Runs of consecutive ascending source indices: `[first, length]`. */
function runs(indices: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < indices.length;) {
    let end = start + 1;
    while (end < indices.length && indices[end] === indices[end - 1]! + 1) ++end;
    out.push([indices[start]!, end - start]);
    start = end;
  }
  return out;
}

/** The positions `indices` (all >= 0) of axis 1 or 2 of `x`, as slices of runs and a concatenation. */
function gatherRuns(x: Tensor4D, axis: 1 | 2, indices: number[]): Tensor4D {
  const parts = runs(indices).map(([from, size]) => tf.slice(x, axis === 1 ? [0, from, 0, 0] : [0, 0, from, 0],
    axis === 1 ? [-1, size, -1, -1] : [-1, -1, size, -1]));
  return parts.length === 1 ? parts[0]! : tf.concat(parts, axis) as Tensor4D;
}

/** The most copies of one input position in {@link padIndices}' output. */
function mostCopies(indices: number[]): number {
  const counts = new Map<number, number>();
  for (const i of indices) if (i >= 0) counts.set(i, (counts.get(i) ?? 0) + 1);
  return Math.max(1, ...counts.values());
}

/**
 * A 2-D convolution with padding modes (deel-lip's `PadConv2D`): for `'constant'`,
 * `'reflect'`, `'symmetric'` and `'circular'` the input is padded by `kernelSize // 2` on each
 * side, then convolved with `'valid'` padding. Not normalised (deel-lip's is a base class for
 * Lipschitz layers): {@link lipschitzBound} bounds the convolution after the padding (the
 * proven norm of the exact matrix for maps of at most `explicitLimit` entries; else the
 * smaller of `||conv|| ||pad||` and `sqrt(||A||_1 ||A||_inf)`, with `|A|` bounded by the
 * padding of the kernel's absolute values). Channels-last. Exports to standard layers: `Conv2D` (after
 * `ZeroPadding2D` for `'constant'`, or a `Concatenate` of `Cropping2D` rows and columns for the
 * other modes).
 */
export class PadConv2D extends Conv2DBase {
  /** Class name used for serialization. */
  static override className = 'PadConv2D';
  /** The padding mode. */
  readonly padMode: PadConv2DPadding;

  constructor(args: PadConv2DArgs) {
    const a = argsObject<PadConv2DArgs>(args, CONTEXT);
    const mode = a.padding ?? 'same';
    if (!PADDINGS.includes(mode)) {
      throw new ArgumentError(`${CONTEXT}: expected padding one of ${PADDINGS.join(', ')}, got ${describe(a.padding)}`);
    }
    super({...a, padding: mode === 'same' ? 'same' : 'valid'});
    if (this.dataFormat !== 'channelsLast') {
      throw new ArgumentError(`${CONTEXT}: expected dataFormat 'channelsLast', got ${describe(a.dataFormat)}`);
    }
    this.padMode = mode;
  }

  /** The padding per side `[rows, cols]` before the convolution (0 for 'same' and 'valid'). */
  get padSize(): [number, number] {
    if (this.padMode === 'same' || this.padMode === 'valid') return [0, 0];
    return [Math.floor(this.kernelSize[0]! / 2), Math.floor(this.kernelSize[1]! / 2)];
  }

  private paddedShape(inputShape: unknown): (number | null)[] {
    const [b, h, w, c] = imageShape(inputShape, `${CONTEXT} '${this.name}'`);
    const [ph, pw] = this.padSize;
    return [b ?? null, h == null ? null : h + 2 * ph, w == null ? null : w + 2 * pw, c ?? null];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    super.build(this.paddedShape(singleShape(inputShape)));
    this.inputSpec = [{ndim: 4, axes: {[-1]: singleShape(inputShape)[3]!}}];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return super.computeOutputShape(this.paddedShape(singleShape(inputShape)));
  }

  /**
   * `x` padded as the layer pads it before its convolution. The modes that copy are written as
   * slices and a concatenation (their gradients add every copy back; tfjs 4.22's MirrorPad
   * gradient only slices out the centre, dropping the reflected copies).
   */
  pad(x: Tensor4D): Tensor4D {
    const [ph, pw] = this.padSize;
    if (ph === 0 && pw === 0) return x;
    if (this.padMode === 'constant') return tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
    const context = `${CONTEXT} '${this.name}'`;
    const rows = gatherRuns(x, 1, padIndices(x.shape[1], ph, this.padMode, context));
    return gatherRuns(rows, 2, padIndices(x.shape[2], pw, this.padMode, context));
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const y = tf.conv2d(this.pad(firstInput(inputs) as Tensor4D), fields(this).kernel!.read() as Tensor4D,
        this.strides as [number, number], this.padding as 'same' | 'valid', 'NHWC', this.dilationRate as [number, number]);
      return biasAndActivation(this, y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), padding: this.padMode};
  }
}
tf.serialization.registerClass(PadConv2D);

/** A proven norm of `conv(pad(x))` with the layer's kernel. */
function* padConvNormReads(l: PadConv2D, context: Parameters<typeof convolutionNormReads>[2]): TensorReads<number> {
  const kernel = fields(l).kernel!.read();
  if (l.padMode === 'same' || l.padMode === 'valid') return yield* convolutionNormReads(l, {kernel}, context);
  const inShape = context.inputShape.slice(1);
  if (inShape.some((d) => d == null)) {
    throw new UnsupportedError(`lipschitzBound: layer '${l.name}' (PadConv2D) needs a fully known input shape, got ` +
      `${describe(context.inputShape)}`);
  }
  const [h, w, c] = inShape as number[];
  const [ph, pw] = l.padSize;
  const name = `lipschitzBound: layer '${l.name}'`;
  // ||pad||_p: the pad copies each input at most `copies` times (and adds nothing else).
  const copies = mostCopies(padIndices(h!, ph, l.padMode, name)) * mostCopies(padIndices(w!, pw, l.padMode, name));
  const padNorm = context.norm === Infinity ? 1 : context.norm === 1 ? copies : roundUpSum(Math.sqrt(copies), 1);
  const convNorm = yield* convolutionNormReads(l, {kernel},
    {...context, inputShape: [null, h! + 2 * ph, w! + 2 * pw, c!]});
  const product = roundUpSum(convNorm * padNorm, 1);
  const {strides, dilationRate} = l as unknown as {strides: [number, number], dilationRate: [number, number]};
  const apply = (x: Tensor, k: Tensor) => tf.conv2d(l.pad(x as Tensor4D), k as Tensor4D, strides, 'valid', 'NHWC',
    dilationRate);
  const n = h! * w! * c!;
  const outSize = (l.computeOutputShape([null, h!, w!, c!]) as number[]).slice(1).reduce((a, b) => a * b, 1);
  if (n * outSize <= (context.powerIteration.explicitLimit ?? 1e6)) {
    // small: the exact matrix (one batched call on the identity) and its proven norm, any p
    const m = Float64Array.from(yield* take(tf.tidy(() => apply(tf.reshape(tf.eye(n), [n, h!, w!, c!]), kernel))));
    return Math.min(product, matrixNorm(m, n, outSize, context.norm, context.powerIteration, context.key));
  }
  const abs = tf.abs(kernel);
  try {
    const direct = yield* tensorOpNormReads({inShape: inShape as number[], apply: (x) => apply(x, kernel),
      applyAbs: (x) => apply(x, abs)}, context.norm, context.powerIteration, context.key);
    return Math.min(product, direct);
  } finally {
    abs.dispose();
  }
}

registerLipschitzRule(PadConv2D.className, function* (layer, context) {
  const l = layer as PadConv2D;
  const act = context.activationFactor(activationConstant(fields(l).activation, layer));
  return {factor: (yield* padConvNormReads(l, context)) * act, rescale: (r: number) => scaleVariable(fields(l).kernel!, r)};
});

/** Rows (axis 1) or columns (axis 2) of `x` picked by `indices` (all >= 0), as standard `Cropping2D` and `Concatenate` layers. */
function gatherAxis(x: tfl.SymbolicTensor, axis: 1 | 2, indices: number[], base: string,
    context: StandardExportContext): tfl.SymbolicTensor {
  const n = x.shape[axis]!;
  const parts = runs(indices).map(([from, size]) => {
    const to = from + size - 1;
    const crop: [[number, number], [number, number]] = axis === 1 ? [[from, n - 1 - to], [0, 0]] : [[0, 0], [from, n - 1 - to]];
    return tfl.layers.cropping2D({cropping: crop, name: context.uniqueName(`${base}_crop`)}).apply(x) as tfl.SymbolicTensor;
  });
  return parts.length === 1 ? parts[0]! :
    tfl.layers.concatenate({axis, name: context.uniqueName(`${base}_concat`)}).apply(parts) as tfl.SymbolicTensor;
}

/**
 * As standard layers: the padding (none; `ZeroPadding2D` for `'constant'`; for the other modes
 * the rows, then the columns, as a `Concatenate` of `Cropping2D` runs of the input, which copy
 * values exactly), then a `Conv2D` with the same kernel and bias.
 */
function exportPadConv(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
    context: StandardExportContext): tfl.SymbolicTensor {
  const l = layer as PadConv2D;
  let x = inputs[0]!;
  const [ph, pw] = l.padSize;
  if (l.padMode === 'constant') {
    x = tfl.layers.zeroPadding2d({padding: [[ph, ph], [pw, pw]], name: context.uniqueName(`${l.name}_pad`)})
      .apply(x) as tfl.SymbolicTensor;
  } else if (l.padMode !== 'same' && l.padMode !== 'valid') {
    const [h, w] = [x.shape[1], x.shape[2]];
    if (h == null || w == null) {
      throw new UnsupportedError(`exportToStandardLayers: PadConv2D '${l.name}' (padding '${l.padMode}') needs known rows and ` +
        `columns, got input shape ${describe(x.shape)}`);
    }
    x = gatherAxis(x, 1, padIndices(h, ph, l.padMode, CONTEXT), `${l.name}_rows`, context);
    x = gatherAxis(x, 2, padIndices(w, pw, l.padMode, CONTEXT), `${l.name}_cols`, context);
  }
  const config: tf.serialization.ConfigDict = {...l.getConfig(), name: context.uniqueName(l.name),
    padding: l.padMode === 'same' ? 'same' : 'valid'};
  for (const key of ['batchInputShape', 'inputShape']) delete config[key];
  const cls = Conv2DBase as unknown as tf.serialization.SerializableConstructor<tfl.layers.Layer>;
  const conv = cls.fromConfig(cls, config);
  const y = conv.apply(x) as tfl.SymbolicTensor;
  conv.setWeights(l.getWeights());
  return y;
}
registerStandardExport(PadConv2D.className, exportPadConv);

/**
 * Creates a {@link PadConv2D} layer: `tf.layers.conv2d` arguments, `padding` one of
 * `'same'`, `'valid'`, `'constant'`, `'reflect'`, `'symmetric'`, `'circular'`.
 *
 * @example
 * ```ts
 * const conv = padConv2d({filters: 8, kernelSize: 3, padding: 'circular'});
 * ```
 */
export function padConv2d(args: PadConv2DArgs): PadConv2D {
  return new PadConv2D(args);
}
