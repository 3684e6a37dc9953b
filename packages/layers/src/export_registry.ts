/**
 * What `exportToStandardLayers` may emit and how other classes get there: the standard
 * tfjs-layers/Keras classes, the registry of exporters for every other layer class (a dict
 * that packages extend, as deel-lip's `type2sv`), and the options and context an exporter gets.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import {ArgumentError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';

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

/** The exporter registered for `className`, if any. */
export function standardExporter(className: string): StandardExporter | undefined {
  return EXPORTERS.get(className);
}

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

/** Every `class_name` in a serialized topology that is not a standard one, with its path. */
export function nonStandardClasses(value: unknown, path: string, found: string[]): string[] {
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
