/**
 * `exportToStandardLayers`: rebuilds a trained model from layers that ship with tfjs-layers
 * (and Keras), so that it can be deployed with plain `@tensorflow/tfjs` or converted to Keras
 * without this plugin. Every `SplineActivation` becomes an exact subgraph of standard layers
 * (spline_export.ts); other packages add their own layers with `registerStandardExport`
 * (export_registry.ts).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import {checkNonNegative, describe} from '@deepspline/core/internal';
import {allLayers, checkBuiltModel, cloneLayer, downstreamLayers, freeName, mapGraph, modelGraph} from './graph.js';
import type {GraphNode} from './graph.js';
import {isLayersModel} from './guards.js';
import {nonStandardClasses, STANDARD_LAYER_CLASSES, standardExporter, standardExportNames} from './export_registry.js';
import type {ExportToStandardLayersOptions, StandardExportContext} from './export_registry.js';
import './spline_export.js';

const CONTEXT = 'exportToStandardLayers';

/**
 * Returns a NEW functional model that computes what `model` computes at inference, made only of
 * layers that ship with tfjs-layers and Keras ({@link STANDARD_LAYER_CLASSES}), so that it
 * saves with `model.save` and loads with plain `@tensorflow/tfjs` (no `@deepspline/*`) or
 * converts to Keras with `tensorflowjs_converter --input_format=tfjs_layers_model
 * --output_format=keras`.
 *
 * - Every `SplineActivation` (per-channel or shared, any input rank, with `maxSlope` applied,
 *   with `learnableScale`: the scale folded into the weights, per channel after a 1x1
 *   `DepthwiseConv2D` that scales the input) becomes `Reshape -> Dense, Dense -> Minimum -> ReLU -> Permute -> DepthwiseConv2D ->
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
  checkBuiltModel(model, CONTEXT);
  const splineForm = options?.splineForm ?? 'hats';
  if (splineForm !== 'hats' && splineForm !== 'ramps') {
    throw new ArgumentError(`${CONTEXT}: expected splineForm 'hats' or 'ramps', got ${describe(options.splineForm)}`);
  }
  const knotThreshold = options?.knotThreshold ?? 0;
  checkNonNegative('knotThreshold', knotThreshold, CONTEXT);
  // Names of the original layers (generated names avoid them, so that cloned standard layers
  // keep theirs) and names given in the exported model.
  const reserved = new Set(allLayers(model).filter((l) => !isLayersModel(l)).map((l) => l.name));
  const used = new Set<string>();
  const context: StandardExportContext = {
    options: {splineForm, knotThreshold},
    uniqueName: (base: string) => {
      const name = freeName(base, (n) => reserved.has(n) || used.has(n));
      used.add(name);
      return name;
    },
  };
  /** The original name for a clone, unless a layer of the export already has it. */
  const cloneName = (name: string) => {
    if (used.has(name)) return context.uniqueName(name);
    used.add(name);
    return name;
  };
  const clones = new Map<tfl.layers.Layer, tfl.layers.Layer>();

  const exportCall = (node: GraphNode, inputs: tfl.SymbolicTensor[]): tfl.SymbolicTensor | tfl.SymbolicTensor[] => {
    const {layer} = node;
    const cls = layer.getClassName();
    const exporter = standardExporter(cls);
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
      clone = cloneLayer(layer, {name: cloneName(layer.name)});
      clones.set(layer, clone);
    }
    return clone.apply(inputs.length === 1 ? inputs[0]! : inputs, node.callArgs) as
      tfl.SymbolicTensor | tfl.SymbolicTensor[];
  };

  // nested models are inlined: the graph opens them into their layers' calls
  const graph = modelGraph(model, CONTEXT);
  const newInputs = graph.inputs.map((v) => tfl.input({batchShape: graph.shapes[v] as number[], dtype: graph.dtypes[v],
    name: cloneName(graph.producers[v]!.layer.name)}));
  try {
    const outputs = mapGraph(graph, newInputs, exportCall, CONTEXT);
    const exported = tfl.model({inputs: newInputs, outputs, name: `${model.name}_standard`});
    for (const [original, clone] of clones) {
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
    const originals = new Set(allLayers(model));
    for (const layer of downstreamLayers(newInputs)) {
      if (!originals.has(layer)) layer.weights.forEach((w) => w.dispose());
    }
    throw error;
  }
}
