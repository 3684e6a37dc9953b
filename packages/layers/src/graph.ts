/**
 * The one walk over a model's graph: every call of a layer (a node), with the real shapes of
 * its inputs, through nested models. A nested model is opened into the calls of its own layers
 * at the shapes each of its calls gives it (a block built on a 2x2 input and called on 12x12
 * is walked at 12x12), or kept as one node (`nested: 'keep'`, for a rebuild that keeps the
 * nesting). Conversion, export, bounds and certificates read the graph from here; nothing else
 * looks at tfjs-layers' symbolic tensors.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type * as tf from '@tensorflow/tfjs-core';
import type {DataType} from '@tensorflow/tfjs-core';
import {ArgumentError, DeepSplineError, UnsupportedError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import {isLayersModel} from './guards.js';
import {callOf, checkInputCompatibility, symbolicCall} from './tfjs_internals.js';
import type {Kwargs, Symbolic} from './tfjs_internals.js';

/** A tensor shape, batch axis first (`null` for an unknown size). */
export type Shape = readonly (number | null)[];

/** One call of a layer. */
export interface GraphNode {
  /** The layer's path: its name, after the names of the nested models it is in (`outer/inner`). */
  name: string;
  /** The names of the nested models the call is in, each followed by `/` (`''` at the top). */
  prefix: string;
  /** The layer called: a nested model only when the graph keeps them (`nested: 'keep'`). */
  layer: tfl.layers.Layer;
  /** The values the call reads (indices into {@link ModelGraph.shapes}); none for a model input. */
  inputs: number[];
  /** The values it returns. */
  outputs: number[];
  /** The shape of each input at this call. */
  inputShapes: Shape[];
  /** The keyword arguments the layer was called with (`training`, `mask`), if any. */
  callArgs?: Kwargs;
}

/** A model's graph. */
export interface ModelGraph {
  /** The calls, every one after the calls that produce its inputs. */
  nodes: GraphNode[];
  /** The model's input values (each produced by an `InputLayer` node). */
  inputs: number[];
  /** The model's output values. */
  outputs: number[];
  /** The shape of every value. */
  shapes: Shape[];
  /** The dtype of every value. */
  dtypes: DataType[];
  /** The node that produces every value. */
  producers: GraphNode[];
}

/** How {@link modelGraph} treats a nested model: opened into its layers' calls, or one node. */
export interface ModelGraphOptions {
  /** @defaultValue `'open'` */
  nested?: 'open' | 'keep';
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Throws (naming `context`) unless `model` is a tfjs-layers model that is built (has inputs
 * and outputs).
 */
export function checkBuiltModel(model: unknown, context: string): asserts model is tfl.LayersModel {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`${context}: expected a tf.LayersModel or tf.Sequential, got ${describe(model)}`);
  }
  builtTensors(model, 'inputs', context);
  builtTensors(model, 'outputs', context);
}

function builtTensors(model: tfl.LayersModel, which: 'inputs' | 'outputs', context: string): Symbolic[] {
  const tensors = model[which] as Symbolic[] | undefined;
  if (tensors == null || tensors.length === 0) {
    throw new ArgumentError(`${context}: the model '${model.name}' is not built (no ${which}); give its ` +
      `first layer an inputShape or call the model once`);
  }
  return tensors;
}

/**
 * The graph of `model`: every call of every layer reachable backwards from its outputs, with
 * nested models opened at the shapes they are called with (or kept whole). Throws (naming
 * `context`) if the model is not built, or if a layer inside a nested model cannot compute its
 * output shape at the shape the model is called with.
 */
export function modelGraph(model: tfl.LayersModel, context: string, options: ModelGraphOptions = {}): ModelGraph {
  const graph: ModelGraph = {nodes: [], inputs: [], outputs: [], shapes: [], dtypes: [], producers: []};
  const top = new Map<number, number>();
  for (const input of builtTensors(model, 'inputs', context)) {
    const node: GraphNode = {name: input.sourceLayer.name, prefix: '', layer: input.sourceLayer as tfl.layers.Layer,
      inputs: [], outputs: [], inputShapes: []};
    const [id] = addValues(graph, node, [input.shape], [input.dtype]);
    graph.inputs.push(id!);
    top.set(input.id, id!);
  }
  graph.outputs = openModel(graph, model, '', top, context, options.nested === 'keep');
  return graph;
}

function addValues(graph: ModelGraph, node: GraphNode, shapes: Shape[], dtypes: DataType[]): number[] {
  shapes.forEach((shape, i) => {
    node.outputs.push(graph.shapes.length);
    graph.shapes.push(shape);
    graph.dtypes.push(dtypes[i]!);
    graph.producers.push(node);
  });
  graph.nodes.push(node);
  return node.outputs;
}

/**
 * Adds the calls inside one call of `model` whose inputs are the values `known` maps its
 * input tensors to; returns the values of its outputs.
 */
function openModel(graph: ModelGraph, model: tfl.LayersModel, prefix: string, known: Map<number, number>,
    context: string, keep: boolean): number[] {
  const done = new Map<string, number[]>();  // node (layer id and call index) -> output values
  const visit = (t: Symbolic): number => {
    const value = known.get(t.id);
    if (value !== undefined) return value;
    const {layer, inputs, key, index} = symbolicCall(t);
    if (inputs.length === 0) {
      throw new DeepSplineError(`${context}: the model '${model.name}' reads the input '${t.name}', which ` +
        `is not one of its inputs`);
    }
    let outputs = done.get(key);
    if (outputs === undefined) {
      const ins = inputs.map(visit);
      outputs = isLayersModel(layer) && !keep ?
        openNested(graph, layer, `${prefix}${layer.name}/`, ins, context) :
        addNode(graph, layer, prefix, t, ins, context);
      done.set(key, outputs);
    }
    return outputs[index]!;
  };
  return builtTensors(model, 'outputs', context).map(visit);
}

function openNested(graph: ModelGraph, model: tfl.LayersModel, prefix: string, ins: number[],
    context: string): number[] {
  const inputs = builtTensors(model, 'inputs', context);
  if (inputs.length !== ins.length) {
    throw new ArgumentError(`${context}: the nested model '${prefix.slice(0, -1)}' has ${inputs.length} inputs, ` +
      `called on ${ins.length}`);
  }
  return openModel(graph, model, prefix, new Map(inputs.map((t, i) => [t.id, ins[i]!])), context, false);
}

function addNode(graph: ModelGraph, layer: tfl.layers.Layer, prefix: string, t: Symbolic, ins: number[],
    context: string): number[] {
  const call = callOf(t);
  const built = call.inputTensors;
  const inputShapes = ins.map((v) => graph.shapes[v]!);
  let outShapes: Shape[] = call.outputTensors.map((s) => s.shape);
  if (!built.every((s, i) => sameShape(s.shape, inputShapes[i]!))) {  // a nested model called at another shape
    const shapeArg = inputShapes.length === 1 ? inputShapes[0]! : inputShapes;
    let computed: tfl.Shape | tfl.Shape[];
    try {
      checkInputCompatibility(layer, inputShapes, built.map((b) => b.dtype));
      computed = layer.computeOutputShape(shapeArg as tfl.Shape | tfl.Shape[]);
    } catch (err) {
      throw new UnsupportedError(`${context}: layer '${prefix}${layer.name}' (${layer.getClassName()}) cannot be ` +
        `called on input shape ${describe(shapeArg)}, where its nested model is called (it was built on ` +
        `${describe(built.length === 1 ? built[0]!.shape : built.map((b) => b.shape))}): ${(err as Error).message}`);
    }
    outShapes = outShapes.length === 1 ? [computed as Shape] : computed as Shape[];
  }
  const node: GraphNode = {name: prefix + layer.name, prefix, layer, inputs: ins, outputs: [], inputShapes};
  if (call.callArgs != null && Object.keys(call.callArgs).length > 0) node.callArgs = call.callArgs;
  return addValues(graph, node, outShapes, call.outputTensors.map((s) => s.dtype));
}

/**
 * Computes the graph on `inputs` (one value per model input): `call` gets every node that is
 * not a model input, in order, with the values of its inputs, and returns the values of its
 * outputs (one, or as many as the original call has). Returns the values of the model's
 * outputs.
 */
export function mapGraph<T>(graph: ModelGraph, inputs: readonly T[], call: (node: GraphNode, inputs: T[]) => T | T[],
    context: string): T[] {
  const values: T[] = [];
  graph.inputs.forEach((v, i) => { values[v] = inputs[i]!; });
  for (const node of graph.nodes) {
    if (node.inputs.length === 0) continue;
    const out = call(node, node.inputs.map((v) => values[v]!));
    const list = Array.isArray(out) ? out : [out];
    if (list.length !== node.outputs.length) {
      throw new DeepSplineError(`${context}: layer '${node.name}' (${node.layer.getClassName()}) gave ` +
        `${list.length} outputs where the original call has ${node.outputs.length}`);
    }
    list.forEach((y, i) => { values[node.outputs[i]!] = y; });
  }
  return graph.outputs.map((v) => values[v]!);
}

/**
 * Runs the graph on `inputs` (one tensor per model input) in inference mode, as `predict`
 * does, with the layer of any node in `replace` called instead of the node's own. Returns
 * the model's outputs; call it inside `tf.tidy` (the intermediate values are not disposed).
 */
export function runGraph(graph: ModelGraph, inputs: tf.Tensor[],
    replace: ReadonlyMap<GraphNode, tfl.layers.Layer> = new Map()): tf.Tensor[] {
  return mapGraph(graph, inputs, (node, ins) =>
    (replace.get(node) ?? node.layer).apply(ins.length === 1 ? ins[0]! : ins) as tf.Tensor | tf.Tensor[], 'runGraph');
}

/**
 * Layers that only move values, or are the identity at inference: an activation before them
 * is still the model's output activation.
 */
const SHAPE_ONLY = new Set(['Reshape', 'Flatten', 'Permute', 'Dropout', 'SpatialDropout1D', 'AlphaDropout',
  'GaussianDropout', 'GaussianNoise']);

/** The activation function of a layer that has one (`Dense`, `Activation`, ...), by class name. */
export const activationOf = (layer: tfl.layers.Layer): string | undefined =>
  (layer as unknown as {activation?: {getClassName(): string}}).activation?.getClassName();

function shapeOnly(layer: tfl.layers.Layer): boolean {
  const cls = layer.getClassName();
  return SHAPE_ONLY.has(cls) || (cls === 'Activation' && activationOf(layer) === 'linear');
}

/**
 * The call that computes `value` up to shape-only layers (`Reshape`, `Flatten`, `Permute`,
 * the dropout and noise layers, a linear `Activation`), and the value it returns: for a
 * model output, where its output activation is.
 */
export function sourceCall(graph: ModelGraph, value: number): {node: GraphNode, value: number} {
  let node = graph.producers[value]!;
  while (node.inputs.length === 1 && shapeOnly(node.layer)) {
    value = node.inputs[0]!;
    node = graph.producers[value]!;
  }
  return {node, value};
}

/**
 * A new, unbuilt layer of the same class from `layer`'s config without its input shape, with
 * `overrides` applied (an `undefined` override removes the key: `{name: undefined}` for a
 * fresh name).
 */
export function cloneLayer(layer: tfl.layers.Layer,
    overrides: Record<string, tf.serialization.ConfigDictValue | undefined> = {}): tfl.layers.Layer {
  const config: tf.serialization.ConfigDict = {...layer.getConfig()};
  delete config.batchInputShape;
  delete config.inputShape;
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete config[key];
    else config[key] = value;
  }
  const cls = layer.constructor as unknown as tf.serialization.SerializableConstructor<tfl.layers.Layer>;
  return cls.fromConfig(cls, config);
}

/** The first of `base`, `base_1`, `base_2`, ... that `taken` does not hold. */
export function freeName(base: string, taken: (name: string) => boolean): string {
  let name = base;
  for (let i = 1; taken(name); ++i) name = `${base}_${i}`;
  return name;
}

/**
 * Every layer of `model` and, through nested models, of the models in it (a nested model
 * is listed, then its layers), in model order.
 */
export function allLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) => (isLayersModel(layer) ? [layer, ...allLayers(layer)] : [layer]));
}

/** A layer found in a model, with its path (`outer/inner` inside nested models). */
export interface FoundLayer<T extends tfl.layers.Layer> {
  /** The layer name, prefixed by the names of the nested models it is in. */
  name: string;
  /** The layer. */
  layer: T;
}

/**
 * The layers of `model` for which `test` holds, in model order, nested models searched
 * (unless `test` holds for the nested model itself).
 */
export function findLayers<T extends tfl.layers.Layer>(model: tfl.LayersModel,
    test: (layer: tfl.layers.Layer) => layer is T, prefix = ''): FoundLayer<T>[] {
  const out: FoundLayer<T>[] = [];
  for (const layer of model.layers) {
    if (test(layer)) out.push({name: prefix + layer.name, layer});
    else if (isLayersModel(layer)) out.push(...findLayers(layer, test, `${prefix}${layer.name}/`));
  }
  return out;
}

/** Every layer applied, directly or not, to `inputs` (found through the layers' outbound nodes). */
export function downstreamLayers(inputs: tfl.SymbolicTensor[]): Set<tfl.layers.Layer> {
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
