/**
 * `exportToStandardLayers`: rebuilds a trained model from layers that ship with tfjs-layers
 * (and Keras), so that it can be deployed with plain `@tensorflow/tfjs` or converted to Keras
 * without this plugin. Every `SplineActivation` becomes an exact subgraph of standard layers;
 * other packages add their own layers with {@link registerStandardExport}.
 */
import {ArgumentError, DeepSplineError, UnsupportedError} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Kwargs} from '@tensorflow/tfjs-layers/dist/types';
import * as tf from '@tensorflow/tfjs-core';
import {checkNonNegative, describe} from '@deepspline/core/internal';
import {isLayersModel} from './guards.js';
import {SplineActivation} from './spline_activation.js';

const CONTEXT = 'exportToStandardLayers';

/**
 * The layer classes of tfjs-layers 4.22 that Keras has too (same class name, same config), so
 * that a model made of them loads in any tfjs build and converts with `tensorflowjs_converter`.
 * The exporter clones layers of these classes as they are; every other class needs an exporter
 * registered with {@link registerStandardExport}.
 */
export const STANDARD_LAYER_CLASSES: readonly string[] = Object.freeze([
  'Activation', 'Add', 'AlphaDropout', 'Average', 'AveragePooling1D', 'AveragePooling2D',
  'AveragePooling3D', 'BatchNormalization', 'Bidirectional', 'CategoryEncoding', 'CenterCrop',
  'Concatenate', 'Conv1D', 'Conv2D', 'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose',
  'ConvLSTM2D', 'Cropping2D', 'Dense', 'DepthwiseConv2D', 'Dot', 'Dropout', 'ELU', 'Embedding',
  'Flatten', 'GaussianDropout', 'GaussianNoise', 'GlobalAveragePooling1D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'GRU', 'InputLayer',
  'LayerNormalization', 'LeakyReLU', 'LSTM', 'Masking', 'Maximum', 'MaxPooling1D',
  'MaxPooling2D', 'MaxPooling3D', 'Minimum', 'Multiply', 'Permute', 'PReLU', 'RandomWidth',
  'ReLU', 'RepeatVector', 'Rescaling', 'Reshape', 'Resizing', 'RNN', 'SeparableConv2D',
  'SimpleRNN', 'Softmax', 'SpatialDropout1D', 'ThresholdedReLU', 'TimeDistributed',
  'UpSampling2D', 'ZeroPadding2D',
]);

/**
 * The non-layer classes of tfjs-layers that may appear inside a standard layer's config
 * (initializers, regularizers, constraints, recurrent cells): the exported model's JSON may
 * hold these and the classes of {@link STANDARD_LAYER_CLASSES}, nothing else.
 */
const STANDARD_CONFIG_CLASSES = new Set([...STANDARD_LAYER_CLASSES,
  'Zeros', 'Ones', 'Constant', 'RandomUniform', 'RandomNormal', 'TruncatedNormal', 'Identity',
  'VarianceScaling', 'GlorotUniform', 'GlorotNormal', 'HeNormal', 'HeUniform', 'LeCunNormal',
  'LeCunUniform', 'Orthogonal', 'L1L2', 'MaxNorm', 'UnitNorm', 'NonNeg', 'MinMaxNorm',
  'SimpleRNNCell', 'GRUCell', 'LSTMCell', 'StackedRNNCells', 'ConvLSTM2DCell']);

/** Options of {@link exportToStandardLayers}. */
export interface ExportToStandardLayersOptions {
  /**
   * How a SplineActivation is written with standard layers. `'hats'`: a weighted sum of
   * hat functions at the knots (`Minimum` of two `Dense` ramps, `ReLU`), at most two of which
   * are non-zero at any input, so the result is as accurate as the layer itself for any
   * spline. `'ramps'`: `c_m + ` a sum of one-sided ReLU ramps (one `Dense`, `ReLU`): fewer
   * operations, but the float32 sum cancels large terms, so its error grows with the
   * spline's TV(2) and the distance to the middle knot (fine for smooth, TV(2)-regularised
   * splines; not for rough ones with many knots).
   * @defaultValue 'hats'
   */
  splineForm?: 'hats' | 'ramps';
  /**
   * Which knots of a spline get a unit: those whose ReLU slope `a_k` (core's Semantics, in
   * float64 from the float32 coefficients) exceeds `knotThreshold` in absolute value in some
   * channel of the layer (the union over channels), so a sparse spline exports to few units. The
   * dropped knots are folded: the export follows the spline through the kept knots with the
   * end slopes of the original, so it moves by at most the sum of the dropped `|a_k|` times the
   * grid's width, for every input however far outside the grid. `0`: exact zeros only, the
   * same function. After `sparsify(model, e)` (`@deepspline/lipschitz`), whose float32 rebuild
   * leaves residues of a few ulps at the removed knots, `knotThreshold: e` keeps exactly the
   * knots it counts active and drops only those residues.
   * @defaultValue 0
   */
  knotThreshold?: number;
}

/** What an exporter may use while it builds its standard layers. */
export interface StandardExportContext {
  /** The options {@link exportToStandardLayers} was called with (defaults filled in). */
  readonly options: Readonly<Required<ExportToStandardLayersOptions>>;
  /**
   * A layer name starting with `base` that no other layer of the exported model has; the name
   * is reserved by the call. Give every new layer such a name (tfjs requires unique names).
   */
  uniqueName(base: string): string;
}

/**
 * Builds the standard-layer equivalent of one layer: applies new standard layers to `inputs`
 * (the symbolic tensors of the exported model that feed the original layer, in order) and
 * returns the symbolic tensor(s) that replace the layer's outputs. The new layers are built by
 * `apply`, so the exporter can `setWeights` them right after; it must copy values, never share
 * the original's variables, and dispose every tensor it creates.
 */
export type StandardExporter = (layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
  context: StandardExportContext) => tfl.SymbolicTensor | tfl.SymbolicTensor[];

const EXPORTERS = new Map<string, StandardExporter>();

/**
 * Registers how {@link exportToStandardLayers} replaces layers of class `className` (its
 * `getClassName()`). A second registration for the same class replaces the first.
 * `@deepspline/lipschitz` registers `SpectralDense`, `SpectralConv2D` and `GroupSort` here.
 *
 * @example
 * ```ts
 * registerStandardExport('Scale', (layer, [x], context) => {
 *   const dense = tf.layers.dense({units: 1, name: context.uniqueName(layer.name)});
 *   const y = dense.apply(x) as tf.SymbolicTensor;
 *   dense.setWeights(layer.getWeights());
 *   return y;
 * });
 * ```
 */
export function registerStandardExport(className: string, exporter: StandardExporter): void {
  if (typeof className !== 'string' || className === '') {
    throw new ArgumentError(`registerStandardExport: expected a non-empty class name, got ${describe(className)}`);
  }
  if (typeof exporter !== 'function') {
    throw new ArgumentError(`registerStandardExport: expected an exporter function (layer, inputs, context) => ` +
      `outputs for '${className}', got ${describe(exporter)}`);
  }
  EXPORTERS.set(className, exporter);
}

/** The class names that have a registered exporter, sorted. */
export function standardExportNames(): string[] {
  return [...EXPORTERS.keys()].sort();
}

/**
 * One unit of the standard-layer form of a spline: `ReLU(min(kA x + bA, kB x + bB))` (just
 * `ReLU(kA x + bA)` without `b`) and its weight in each channel.
 */
interface Unit { a: [number, number], b?: [number, number], weights: number[] }

/**
 * A spline as a weighted sum of units plus a per-channel affine part `linear x + bias`
 * (`linear` is zero whenever there are units).
 */
interface UnitForm { units: Unit[], linear: number[], bias: number[] }

/**
 * The splines of one layer reduced to the knots that bend them: the knots `k` (`1 .. K-2`,
 * ascending) whose ReLU slope `a_k = (c[k-1] - 2 c[k] + c[k+1]) / T` (float64, from the float32
 * coefficients) exceeds `threshold` in absolute value in some channel. `g`, the spline that
 * interpolates each channel's coefficients at the kept knots and continues with its end
 * segments' slopes, is what the forms below write.
 *
 * When `|a_k| <= threshold` means `a_k = 0` (threshold 0), `g` is the spline itself. Otherwise
 * `g - sigma` is piecewise linear with the grid's knots, and constant beyond the ends (same end
 * slopes), so `max_x |g(x) - sigma(x)| = max_k |g(t_k) - c[k]|`, at most the sum of the dropped
 * `|a_k|` times the grid's width `t_{K-1} - t_0` for every input, however far. That needs at
 * least one knot when the end slopes differ: then the knot with the largest `|a_k|` is kept.
 */
interface Bends {
  /** The kept knots' indices. */
  knots: number[];
  /** Per channel, `c[k]` at each kept knot. */
  values: number[][];
  /**
   * Per channel, the `n + 1` slopes of `g`: left of the first kept knot (the first segment's),
   * between consecutive kept knots, right of the last (the last segment's).
   */
  slopes: number[][];
}

function bends(coefficients: number[][], step: number, threshold: number): Bends {
  const size = coefficients[0]!.length;
  const peak = (k: number) => Math.max(...coefficients.map((c) => Math.abs((c[k - 1]! - 2 * c[k]! + c[k + 1]!) / step)));
  const knots: number[] = [];
  for (let k = 1; k < size - 1; ++k) if (peak(k) > threshold) knots.push(k);
  const first = (c: number[]) => (c[1]! - c[0]!) / step;
  const last = (c: number[]) => (c[size - 1]! - c[size - 2]!) / step;
  if (knots.length === 0 && coefficients.some((c) => first(c) !== last(c))) {
    let best = 1;
    for (let k = 2; k < size - 1; ++k) if (peak(k) > peak(best)) best = k;
    knots.push(best);
  }
  return {
    knots,
    values: coefficients.map((c) => knots.map((k) => c[k]!)),
    slopes: coefficients.map((c) => [first(c),
      ...knots.slice(1).map((k, j) => (c[k]! - c[knots[j]!]!) / ((k - knots[j]!) * step)), last(c)]),
  };
}

/**
 * A spline without bends: `c[m] + s (x - t_m)`, anchored at the middle knot `m` (the spline's
 * end slopes agree, and every `c[k]` lies on that line up to the dropped slopes).
 */
function affineForm(coefficients: number[][], start: number, step: number, slopes: number[][]): UnitForm {
  const m = Math.floor((coefficients[0]!.length - 1) / 2);
  const t = start + m * step;
  return {units: [], linear: slopes.map((s) => s[0]!), bias: coefficients.map((c, i) => c[m]! - slopes[i]![0]! * t)};
}

/**
 * The hat form over the kept knots `p_0 < ... < p_{n-1}` ({@link bends}; core's Semantics for
 * the rest): `g(x) = sum_j (g(p_j) / h_j) H_j(x) - s_L ReLU(p_0 - x) + s_R ReLU(x - p_{n-1})`,
 * `s_L`, `s_R` the end slopes. The hat `H_j = ReLU(min(m_R (x - p_{j-1}), m_L (p_{j+1} - x)))`,
 * `m_L`, `m_R` the knot counts to its neighbours, peaks at `h_j = m_L m_R T` on `p_j` and is
 * zero beyond them; `H_0` is flat left of `p_0`, `H_{n-1}` right of `p_{n-1}`. At any x at most
 * two hats and one ramp are non-zero, so the sum is the interpolation of core's Semantics with
 * rounding of the order of the coefficients', whatever the spline's roughness or size. One kept
 * knot needs no hat: `g(p_0)` is the bias.
 */
function hatForm(coefficients: number[][], start: number, step: number, threshold: number): UnitForm {
  const {knots, values, slopes} = bends(coefficients, step, threshold);
  const n = knots.length;
  if (n === 0) return affineForm(coefficients, start, step, slopes);
  const p = (j: number) => start + knots[j]! * step;
  const ramps: Unit[] = [
    {a: [-1, p(0)], b: [-1, p(0)], weights: slopes.map((s) => -s[0]!)},
    {a: [1, -p(n - 1)], b: [1, -p(n - 1)], weights: slopes.map((s) => s[n]!)},
  ];
  const zeros = coefficients.map(() => 0);
  if (n === 1) return {units: ramps.map(({a, weights}) => ({a, weights})), linear: zeros, bias: values.map((v) => v[0]!)};
  const units: Unit[] = [];
  for (let j = 0; j < n; ++j) {
    const left = j === 0 ? 0 : knots[j]! - knots[j - 1]!;
    const right = j === n - 1 ? 0 : knots[j + 1]! - knots[j]!;
    const height = (left === 0 ? right : right === 0 ? left : left * right) * step;
    units.push({
      a: j === 0 ? [0, height] : [right || 1, -(right || 1) * p(j - 1)],
      b: j === n - 1 ? [0, height] : [-(left || 1), (left || 1) * p(j + 1)],
      weights: values.map((v) => v[j]! / height),
    });
  }
  return {units: [...units, ...ramps], linear: zeros, bias: zeros};
}

/**
 * The ramp form over the kept knots ({@link bends}), anchored at the kept knot `p_m` nearest
 * the grid's middle: `g(x) = g(p_m) + s_m+ ReLU(x - p_m) - s_m- ReLU(p_m - x) + sum_{j > m} b_j
 * ReLU(x - p_j) + sum_{j < m} b_j ReLU(p_j - x)`, with `s_m-`, `s_m+` the slopes of `g` either
 * side of `p_m` and `b_j` its slope changes (the ReLU slopes `a_k` when nothing is dropped). One
 * unit fewer than the hat form and one Dense layer instead of two, but every ramp is active on
 * half the line, so the float32 sum cancels terms of size `|b_j| |x - p_j|`: its error grows
 * with the spline's TV(2) times the distance to the anchor.
 */
function rampForm(coefficients: number[][], start: number, step: number, threshold: number): UnitForm {
  const {knots, values, slopes} = bends(coefficients, step, threshold);
  const n = knots.length;
  if (n === 0) return affineForm(coefficients, start, step, slopes);
  const middle = (coefficients[0]!.length - 1) / 2;
  let m = 0;
  for (let j = 1; j < n; ++j) if (Math.abs(knots[j]! - middle) < Math.abs(knots[m]! - middle)) m = j;
  const p = (j: number) => start + knots[j]! * step;
  const units: Unit[] = [
    {a: [1, -p(m)], weights: slopes.map((s) => s[m + 1]!)},
    {a: [-1, p(m)], weights: slopes.map((s) => -s[m]!)},
  ];
  for (let j = 0; j < n; ++j) {
    if (j === m) continue;
    units.push({a: j > m ? [1, -p(j)] : [-1, p(j)], weights: slopes.map((s) => s[j + 1]! - s[j]!)});
  }
  return {units, linear: coefficients.map(() => 0), bias: values.map((v) => v[m]!)};
}

/** `setWeights` from plain arrays, disposing the temporary tensors. */
function writeWeights(layer: tfl.layers.Layer, values: Array<{data: number[], shape: number[]}>): void {
  const tensors = values.map((v) => tf.tensor(v.data, v.shape, 'float32'));
  try { layer.setWeights(tensors); } finally { tf.dispose(tensors); }
}

/**
 * A SplineActivation as standard layers, for an input `[B, S..., C]` and `U` units
 * ({@link hatForm}; {@link rampForm} has no `B` Dense and no Minimum):
 *
 * ```
 * Reshape [P, C, 1] -> Dense A(U), Dense B(U) -> Minimum -> ReLU -> Permute [P, U, C]
 *   -> DepthwiseConv2D([1, U], 'valid', per-channel unit weights, bias) -> Reshape [S..., C]
 * ```
 *
 * A shared spline needs no per-channel weights: `Reshape [P C, 1] -> Dense A, B -> Minimum ->
 * ReLU -> Dense(1) -> Reshape`. `P` may be unknown (`-1`); at most one of `S..., C` may be.
 * Units whose weight is exactly 0 in every channel are left out (they add exactly nothing);
 * without units the spline is affine: `Reshape [P, 1, C] -> DepthwiseConv2D([1, 1]) ->
 * Reshape` (shared: `Reshape [P C, 1] -> Dense(1) -> Reshape`).
 */
function exportSpline(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
    context: StandardExportContext): tfl.SymbolicTensor {
  const spline = layer as SplineActivation;
  const x = inputs[0]!;
  const outShape = x.shape.slice(1);
  if (outShape.filter((d) => d == null).length > 1) {
    throw new UnsupportedError(`${CONTEXT}: SplineActivation '${layer.name}' has input shape ` +
      `${describe(x.shape)}; standard layers can only reshape it back with at most one unknown ` +
      `non-batch dimension. Give the model's input a fully known shape (except the batch)`);
  }
  const c = spline.effectiveCoefficients();
  const coefficients = c.arraySync() as number[][];
  c.dispose();
  const {splineForm, knotThreshold} = context.options;
  const form = (splineForm === 'ramps' ? rampForm : hatForm)(
    coefficients, spline.grid.start, spline.grid.step, knotThreshold);
  const units = form.units.filter((u) => u.weights.some((w) => w !== 0));
  const hats = units.some((u) => u.b != null);
  const n = units.length;
  const name = (suffix: string) => context.uniqueName(`${layer.name}_${suffix}`);
  const apply = (l: tfl.layers.Layer, t: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => l.apply(t) as tfl.SymbolicTensor;
  const channels = outShape[outShape.length - 1] as number;
  const shared = spline.shared;
  const dense = (suffix: string, input: tfl.SymbolicTensor, part: (u: Unit) => [number, number]) => {
    const d = tfl.layers.dense({units: n, name: name(suffix)});
    const y = apply(d, input);
    writeWeights(d, [{data: units.map((u) => part(u)[0]), shape: [1, n]},
      {data: units.map((u) => part(u)[1]), shape: [n]}]);
    return y;
  };
  const unitsOut = (columns: tfl.SymbolicTensor) => {
    let h = dense(hats ? 'rising' : 'ramps_in', columns, (u) => u.a);
    if (hats) {
      h = apply(tfl.layers.minimum({name: name('hats_in')}),
        [h, dense('falling', columns, (u) => u.b ?? u.a)]);
    }
    return apply(tfl.layers.reLU({name: name(hats ? 'hats' : 'ramps')}), h);
  };

  let h: tfl.SymbolicTensor;
  if (shared) {
    const columns = apply(tfl.layers.reshape({targetShape: [-1, 1], name: name('columns')}), x);
    const sum = tfl.layers.dense({units: 1, name: name(n === 0 ? 'affine' : 'weights')});
    h = apply(sum, n === 0 ? columns : unitsOut(columns));
    writeWeights(sum, [n === 0 ? {data: form.linear, shape: [1, 1]} : {data: units.map((u) => u.weights[0]!), shape: [n, 1]},
      {data: form.bias, shape: [1]}]);
  } else if (n === 0) {
    const columns = apply(tfl.layers.reshape({targetShape: [-1, 1, channels], name: name('columns')}), x);
    const affine = tfl.layers.depthwiseConv2d({kernelSize: [1, 1], name: name('affine')});
    h = apply(affine, columns);
    writeWeights(affine, [{data: form.linear, shape: [1, 1, channels, 1]}, {data: form.bias, shape: [channels]}]);
  } else {
    const columns = apply(tfl.layers.reshape({targetShape: [-1, channels, 1], name: name('columns')}), x);
    h = apply(tfl.layers.permute({dims: [1, 3, 2], name: name('permute')}), unitsOut(columns));
    const sum = tfl.layers.depthwiseConv2d({kernelSize: [1, n], padding: 'valid', name: name('weights')});
    h = apply(sum, h);
    // Depthwise kernel [1, U, C, 1]: element (j, c) is unit j's weight in channel c.
    writeWeights(sum, [{data: units.flatMap((u) => u.weights), shape: [1, n, channels, 1]},
      {data: form.bias, shape: [channels]}]);
  }
  return apply(tfl.layers.reshape({targetShape: outShape.map((d) => d ?? -1), name: context.uniqueName(layer.name)}), h);
}

registerStandardExport(SplineActivation.className, exportSpline);

interface InternalNode {
  inputTensors: tfl.SymbolicTensor[];
  outputTensors: tfl.SymbolicTensor[];
  callArgs?: Kwargs;
}

function cloneStandard(layer: tfl.layers.Layer, name: string): tfl.layers.Layer {
  const config: tf.serialization.ConfigDict = {...layer.getConfig(), name};
  delete config.batchInputShape;
  delete config.inputShape;
  const cls = layer.constructor as unknown as tf.serialization.SerializableConstructor<tfl.layers.Layer>;
  return cls.fromConfig(cls, config);
}

/** Every `class_name` in a serialized topology that is not a standard one, with its path. */
function nonStandardClasses(value: unknown, path: string, found: string[]): string[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => nonStandardClasses(v, `${path}[${i}]`, found));
  } else if (value != null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const name = obj.class_name;
    if (typeof name === 'string' && !STANDARD_CONFIG_CLASSES.has(name)) found.push(`${name} at ${path}`);
    for (const [k, v] of Object.entries(obj)) nonStandardClasses(v, `${path}.${k}`, found);
  }
  return found;
}

/**
 * Returns a NEW functional model that computes what `model` computes at inference, made only of
 * layers that ship with tfjs-layers and Keras ({@link STANDARD_LAYER_CLASSES}), so that it
 * saves with `model.save` and loads with plain `@tensorflow/tfjs` (no `@deepspline/*`) or
 * converts to Keras with `tensorflowjs_converter --input_format=tfjs_layers_model
 * --output_format=keras`.
 *
 * - Every `SplineActivation` (per-channel or shared, any input rank, with `maxSlope` applied)
 *   becomes `Reshape -> Dense, Dense -> Minimum -> ReLU -> Permute -> DepthwiseConv2D ->
 *   Reshape` (shared: a `Dense(1)` instead of the permute and depthwise): the spline as a sum
 *   of hat functions at its knots plus the two extrapolation ramps, the same function for
 *   every input (inside the grid, on the knots, extrapolating) up to float32 rounding. See
 *   `options.splineForm` for the cheaper ramp form.
 * - Layers of other packages are replaced by their registered exporter
 *   ({@link registerStandardExport}; importing `@deepspline/lipschitz` registers its
 *   spectral layers and GroupSort).
 * - Standard layers are cloned with their names and configs; nested models are inlined.
 *
 * Every weight is copied: the export shares no variable with `model` (dispose each on its
 * own). Training-only state (the spline regularizer and constraint, the spectral layers'
 * power-iteration vector) is not exported.
 *
 * Throws, naming the layer, for a layer that is neither standard nor has an exporter, for a
 * spline input with more than one unknown non-batch dimension, and when a standard layer's
 * config holds a non-standard class (say a custom regularizer); a failed export disposes the
 * layers it had built.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {exportToStandardLayers} from '@deepspline/layers';
 *
 * const standard = exportToStandardLayers(trained);
 * await standard.save('downloads://deployed');  // loads with tf.loadLayersModel alone
 * ```
 */
export function exportToStandardLayers(model: tfl.LayersModel,
    options: ExportToStandardLayersOptions = {}): tfl.LayersModel {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`${CONTEXT}: expected a tf.LayersModel or tf.Sequential, got ${describe(model)}`);
  }
  if (model.inputs == null || model.inputs.length === 0) {
    throw new ArgumentError(`${CONTEXT}: model '${model.name}' is not built (it has no inputs); give its ` +
      `first layer an inputShape or call model.build first`);
  }
  // Names of the original layers (generated names avoid them, so that cloned standard layers
  // keep theirs) and names given in the exported model.
  const reserved = new Set<string>();
  const used = new Set<string>();
  const splineForm = options?.splineForm ?? 'hats';
  if (splineForm !== 'hats' && splineForm !== 'ramps') {
    throw new ArgumentError(`${CONTEXT}: expected splineForm 'hats' or 'ramps', got ${describe(options.splineForm)}`);
  }
  const knotThreshold = options?.knotThreshold ?? 0;
  checkNonNegative('knotThreshold', knotThreshold, CONTEXT);
  const context: StandardExportContext = {
    options: {splineForm, knotThreshold},
    uniqueName: (base: string) => {
      let name = base;
      for (let i = 1; reserved.has(name) || used.has(name); ++i) name = `${base}_${i}`;
      used.add(name);
      return name;
    },
  };
  const reserve = (m: tfl.LayersModel): void => m.layers.forEach((l) => {
    if (isLayersModel(l)) reserve(l);
    else reserved.add(l.name);
  });
  reserve(model);
  /** The original name for a clone, unless a layer of the export already has it. */
  const cloneName = (name: string) => {
    if (used.has(name)) return context.uniqueName(name);
    used.add(name);
    return name;
  };
  const clones = new Map<tfl.layers.Layer, tfl.layers.Layer>();
  const clonedWeights: Array<[tfl.layers.Layer, tfl.layers.Layer]> = [];

  /** Maps the tensors of one (possibly nested) model's graph to the exported graph. */
  const trace = (outputs: tfl.SymbolicTensor[], mapped: Map<number, tfl.SymbolicTensor>) => {
    const visit = (st: tfl.SymbolicTensor): tfl.SymbolicTensor => {
      const done = mapped.get(st.id);
      if (done != null) return done;
      const layer = st.sourceLayer;
      const node = (layer as unknown as {inboundNodes: InternalNode[]}).inboundNodes[st.nodeIndex]!;
      if (layer.getClassName() === 'InputLayer' || node == null) {
        throw new DeepSplineError(`${CONTEXT}: could not trace tensor '${st.name}' of layer '${layer.name}' ` +
          `back to an input of model '${model.name}'`);
      }
      const inputs = node.inputTensors.map(visit);
      const outs = exportLayer(layer, inputs, node);
      const list = Array.isArray(outs) ? outs : [outs];
      if (list.length !== node.outputTensors.length) {
        throw new DeepSplineError(`${CONTEXT}: the export of layer '${layer.name}' (${layer.getClassName()}) ` +
          `returned ${list.length} outputs, expected ${node.outputTensors.length}`);
      }
      node.outputTensors.forEach((t, i) => mapped.set(t.id, list[i]!));
      return mapped.get(st.id)!;
    };
    return outputs.map(visit);
  };

  const exportLayer = (layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[], node: InternalNode):
      tfl.SymbolicTensor | tfl.SymbolicTensor[] => {
    if (isLayersModel(layer)) {
      // Inline the nested model: its inputs are the tensors that feed this node.
      const inner = new Map<number, tfl.SymbolicTensor>();
      layer.inputs.forEach((t, i) => inner.set(t.id, inputs[i]!));
      const outs = trace(layer.outputs, inner);
      return outs.length === 1 ? outs[0]! : outs;
    }
    const cls = layer.getClassName();
    const exporter = EXPORTERS.get(cls);
    if (exporter != null) {
      // The layer is being replaced: its name is free for the last layer of its replacement.
      reserved.delete(layer.name);
      return exporter(layer, inputs, context);
    }
    if (!STANDARD_LAYER_CLASSES.includes(cls)) {
      throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' is a ${cls}, which is not a standard ` +
        `tfjs-layers/Keras layer and has no registered export; expected one of ` +
        `${STANDARD_LAYER_CLASSES.join(', ')} or a class registered with registerStandardExport ` +
        `(${standardExportNames().join(', ')}; import @deepspline/lipschitz for its layers)`);
    }
    let clone = clones.get(layer);
    if (clone == null) {
      clone = cloneStandard(layer, cloneName(layer.name));
      clones.set(layer, clone);
      clonedWeights.push([layer, clone]);
    }
    return clone.apply(inputs.length === 1 ? inputs[0]! : inputs, node.callArgs) as
      tfl.SymbolicTensor | tfl.SymbolicTensor[];
  };

  const top = new Map<number, tfl.SymbolicTensor>();
  const newInputs = model.inputs.map((st) => {
    const input = tfl.input({batchShape: st.shape, dtype: st.dtype, name: cloneName(st.sourceLayer.name)});
    top.set(st.id, input);
    return input;
  });
  try {
    const outputs = trace(model.outputs, top);
    const exported = tfl.model({inputs: newInputs, outputs, name: `${model.name}_standard`});
    for (const [original, clone] of clonedWeights) {
      const weights = original.getWeights();
      if (weights.length > 0) clone.setWeights(weights);
    }
    const bad = nonStandardClasses(exported.toJSON(null, false), 'modelTopology', []);
    // The top-level class (the functional model itself) is standard by construction.
    const layersOnly = bad.filter((b) => !/^\w+ at modelTopology$/.test(b));
    if (layersOnly.length > 0) {
      throw new UnsupportedError(`${CONTEXT}: the exported model's config holds classes that are not standard ` +
        `tfjs-layers/Keras classes: ${layersOnly.join('; ')}. Remove them from the original layers ` +
        `(e.g. a custom regularizer or constraint) or register an exporter for the layer`);
    }
    return exported;
  } catch (error) {
    // Whatever was built so far hangs off the new inputs: free its weights (never the
    // original model's, in case an exporter applied one of its layers).
    const originals = new Set<tfl.layers.Layer>();
    const collect = (m: tfl.LayersModel): void => m.layers.forEach((l) => {
      originals.add(l);
      if (isLayersModel(l)) collect(l);
    });
    collect(model);
    for (const layer of downstreamLayers(newInputs)) {
      if (!originals.has(layer)) layer.weights.forEach((w) => w.dispose());
    }
    throw error;
  }
}

/** Every layer applied, directly or not, to `inputs` (found through the layers' outbound nodes). */
function downstreamLayers(inputs: tfl.SymbolicTensor[]): Set<tfl.layers.Layer> {
  const found = new Set<tfl.layers.Layer>();
  const stack = inputs.map((t) => t.sourceLayer);
  while (stack.length > 0) {
    const layer = stack.pop()!;
    if (found.has(layer)) continue;
    found.add(layer);
    for (const node of layer.outboundNodes) stack.push(node.outboundLayer);
  }
  return found;
}
