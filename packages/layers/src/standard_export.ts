/**
 * `exportToStandardLayers`: rebuilds a trained model from layers that ship with tfjs-layers
 * (and Keras), so that it can be deployed with plain `@tensorflow/tfjs` or converted to Keras
 * without this plugin. Every `SplineActivation` becomes an exact subgraph of standard layers;
 * other packages add their own layers with {@link registerStandardExport}.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type {Kwargs} from '@tensorflow/tfjs-layers/dist/types';
import * as tf from '@tensorflow/tfjs-core';
import {describe} from '@deepspline/core/internal';
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
    throw new Error(`registerStandardExport: expected a non-empty class name, got ${describe(className)}`);
  }
  if (typeof exporter !== 'function') {
    throw new Error(`registerStandardExport: expected an exporter function (layer, inputs, context) => ` +
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

/** A spline as a weighted sum of units plus a per-channel constant. */
interface UnitForm { units: Unit[], bias: number[] }

/**
 * The hat form of linear splines, from their coefficients `c[k]` at the knots
 * `t_k = start + k T` (core's Semantics): `sigma(x) = sum_k (c_k / T) H_k(x) - s_0 ReLU(t_0 - x)
 * + s_{K-2} ReLU(x - t_{K-1})`, with the hats `H_k(x) = ReLU(min(T + x - t_k, T - x + t_k))`
 * (height T at t_k, zero beyond the neighbouring knots; `H_0` is `T` left of `t_0` and
 * `H_{K-1}` is `T` right of `t_{K-1}`) and `s_j` the end segments' slopes. At any x at most
 * two hats and one ramp are non-zero, so the sum is the interpolation
 * `c_k (1 - f) + c_{k+1} f` of core's Semantics, with rounding of the order of the
 * coefficients' whatever the spline's roughness or size.
 */
function hatForm(coefficients: number[][], start: number, step: number): UnitForm {
  const size = coefficients[0]!.length;
  const t = (k: number) => start + k * step;
  const units: Unit[] = [];
  for (let k = 0; k < size; ++k) {
    units.push({
      a: k === 0 ? [0, step] : [1, step - t(k)],
      b: k === size - 1 ? [0, step] : [-1, step + t(k)],
      weights: coefficients.map((c) => c[k]! / step),
    });
  }
  const slope = (c: number[], j: number) => (c[j + 1]! - c[j]!) / step;
  units.push({a: [-1, t(0)], b: [-1, t(0)], weights: coefficients.map((c) => -slope(c, 0))});
  units.push({a: [1, -t(size - 1)], b: [1, -t(size - 1)], weights: coefficients.map((c) => slope(c, size - 2))});
  return {units, bias: coefficients.map(() => 0)};
}

/**
 * The ramp form, anchored at the middle knot `m`: `sigma(x) = c_m + s_m ReLU(x - t_m)
 * - s_{m-1} ReLU(t_m - x) + sum_{k > m} a_k ReLU(x - t_k) + sum_{k < m} a_k ReLU(t_k - x)`,
 * with `s_j` the slope of segment j and `a_k = s_k - s_{k-1}` the ReLU slopes (core's
 * `reluSlopes`). One unit fewer than the knots and one Dense layer instead of two, but every
 * ramp is active on half the line, so the float32 sum cancels terms of size `|a_k| |x - t_k|`:
 * its error grows with the spline's TV(2) times the distance to the middle knot.
 */
function rampForm(coefficients: number[][], start: number, step: number): UnitForm {
  const size = coefficients[0]!.length;
  const m = Math.floor((size - 1) / 2);
  const t = (k: number) => start + k * step;
  const slope = (c: number[], j: number) => (c[j + 1]! - c[j]!) / step;
  const units: Unit[] = [
    {a: [1, -t(m)], weights: coefficients.map((c) => slope(c, m))},
    {a: [-1, t(m)], weights: coefficients.map((c) => -slope(c, m - 1))},
  ];
  for (let k = 1; k < size - 1; ++k) {
    if (k === m) continue;
    units.push({a: k > m ? [1, -t(k)] : [-1, t(k)],
      weights: coefficients.map((c) => (c[k - 1]! - 2 * c[k]! + c[k + 1]!) / step)});
  }
  return {units, bias: coefficients.map((c) => c[m]!)};
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
 * Units whose weight is exactly 0 in every channel are left out (they add exactly nothing).
 */
function exportSpline(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
    context: StandardExportContext): tfl.SymbolicTensor {
  const spline = layer as SplineActivation;
  const x = inputs[0]!;
  const outShape = x.shape.slice(1);
  if (outShape.filter((d) => d == null).length > 1) {
    throw new Error(`${CONTEXT}: SplineActivation '${layer.name}' has input shape ` +
      `${describe(x.shape)}; standard layers can only reshape it back with at most one unknown ` +
      `non-batch dimension. Give the model's input a fully known shape (except the batch)`);
  }
  const c = spline.effectiveCoefficients();
  const coefficients = c.arraySync() as number[][];
  c.dispose();
  const form = (context.options.splineForm === 'ramps' ? rampForm : hatForm)(
    coefficients, spline.grid.start, spline.grid.step);
  let units = form.units.filter((u) => u.weights.some((w) => w !== 0));
  // A zero spline: one unit with zero weight keeps the layers well formed.
  if (units.length === 0) units = [{...form.units[0]!, weights: coefficients.map(() => 0)}];
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

  const columns = apply(tfl.layers.reshape({targetShape: shared ? [-1, 1] : [-1, channels, 1],
    name: name('columns')}), x);
  let h = dense(hats ? 'rising' : 'ramps_in', columns, (u) => u.a);
  if (hats) {
    h = apply(tfl.layers.minimum({name: name('hats_in')}),
      [h, dense('falling', columns, (u) => u.b ?? u.a)]);
  }
  h = apply(tfl.layers.reLU({name: name(hats ? 'hats' : 'ramps')}), h);
  let sum: tfl.layers.Layer;
  if (shared) {
    sum = tfl.layers.dense({units: 1, name: name('weights')});
    h = apply(sum, h);
    writeWeights(sum, [{data: units.map((u) => u.weights[0]!), shape: [n, 1]}, {data: form.bias, shape: [1]}]);
  } else {
    h = apply(tfl.layers.permute({dims: [1, 3, 2], name: name('permute')}), h);
    sum = tfl.layers.depthwiseConv2d({kernelSize: [1, n], padding: 'valid', name: name('weights')});
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
    throw new Error(`${CONTEXT}: expected a tf.LayersModel or tf.Sequential, got ${describe(model)}`);
  }
  if (model.inputs == null || model.inputs.length === 0) {
    throw new Error(`${CONTEXT}: model '${model.name}' is not built (it has no inputs); give its ` +
      `first layer an inputShape or call model.build first`);
  }
  // Names of the original layers (generated names avoid them, so that cloned standard layers
  // keep theirs) and names given in the exported model.
  const reserved = new Set<string>();
  const used = new Set<string>();
  const splineForm = options?.splineForm ?? 'hats';
  if (splineForm !== 'hats' && splineForm !== 'ramps') {
    throw new Error(`${CONTEXT}: expected splineForm 'hats' or 'ramps', got ${describe(options.splineForm)}`);
  }
  const context: StandardExportContext = {
    options: {splineForm},
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
        throw new Error(`${CONTEXT}: could not trace tensor '${st.name}' of layer '${layer.name}' ` +
          `back to an input of model '${model.name}'`);
      }
      const inputs = node.inputTensors.map(visit);
      const outs = exportLayer(layer, inputs, node);
      const list = Array.isArray(outs) ? outs : [outs];
      if (list.length !== node.outputTensors.length) {
        throw new Error(`${CONTEXT}: the export of layer '${layer.name}' (${layer.getClassName()}) ` +
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
      throw new Error(`${CONTEXT}: layer '${layer.name}' is a ${cls}, which is not a standard ` +
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
      throw new Error(`${CONTEXT}: the exported model's config holds classes that are not standard ` +
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
