/**
 * The one walk over a model's graph: every call of a layer (a node), with the real shapes of
 * its inputs, through nested models. A nested model is not a node: each of its calls is
 * opened into the calls of its own layers, at the shapes that call gives it (a block built
 * on a 2x2 input and called on 12x12 is walked at 12x12). Bounds and certificates read the
 * graph from here; nothing else looks at tfjs-layers' symbolic tensors.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {SymbolicTensor} from '@tensorflow/tfjs-layers/dist/engine/topology';
import {describe} from '@deepspline/core/internal';
import {isLayersModel} from '@deepspline/layers';

/** A tensor shape, batch axis first (`null` for an unknown size). */
export type Shape = readonly (number | null)[];

/** One call of a layer. */
export interface GraphNode {
  /** The layer's path: its name, after the names of the nested models it is in (`outer/inner`). */
  name: string;
  /** The names of the nested models the call is in, each followed by `/` (`''` at the top). */
  prefix: string;
  /** The layer called: never a nested model (their layers are nodes of their own). */
  layer: tfl.layers.Layer;
  /** The values the call reads (indices into {@link ModelGraph.shapes}); none for a model input. */
  inputs: number[];
  /** The values it returns. */
  outputs: number[];
  /** The shape of each input at this call. */
  inputShapes: Shape[];
}

/** A model's graph, nested models opened. */
export interface ModelGraph {
  /** The calls, every one after the calls that produce its inputs. */
  nodes: GraphNode[];
  /** The model's input values (each produced by an `InputLayer` node). */
  inputs: number[];
  /** The model's output values. */
  outputs: number[];
  /** The shape of every value. */
  shapes: Shape[];
  /** The node that produces every value. */
  producers: GraphNode[];
}

// tfjs-layers' symbolic tensors (`inputs`, `sourceLayer`, `nodeIndex`, `tensorIndex`) are the
// only record of the graph a functional or sequential model was built from; they are read
// here and nowhere else. `nodeIndex`/`tensorIndex` are set by `Layer.apply` on every symbolic
// output but missing from the published type.
type Symbolic = SymbolicTensor & {nodeIndex?: number, tensorIndex?: number};

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The graph of `model`: every call of every layer reachable backwards from its outputs, with
 * nested models opened at the shapes they are called with. Throws (naming `context`) if the
 * model is not built, or if a layer inside a nested model cannot compute its output shape at
 * the shape the model is called with.
 */
export function modelGraph(model: tfl.LayersModel, context: string): ModelGraph {
  const graph: ModelGraph = {nodes: [], inputs: [], outputs: [], shapes: [], producers: []};
  const top = new Map<number, number>();
  for (const input of builtTensors(model, 'inputs', context)) {
    const id = graph.shapes.length;
    graph.shapes.push(input.shape);
    const node: GraphNode = {name: input.sourceLayer.name, prefix: '', layer: input.sourceLayer as tfl.layers.Layer,
      inputs: [], outputs: [id], inputShapes: []};
    graph.nodes.push(node);
    graph.producers.push(node);
    graph.inputs.push(id);
    top.set(input.id, id);
  }
  graph.outputs = openModel(graph, model, '', top, context);
  return graph;
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
 * Adds the calls inside one call of `model` whose inputs are the values `known` maps its
 * input tensors to; returns the values of its outputs.
 */
function openModel(graph: ModelGraph, model: tfl.LayersModel, prefix: string, known: Map<number, number>,
    context: string): number[] {
  const done = new Map<string, number[]>();  // node (layer id and node index) -> output values
  const visit = (t: Symbolic): number => {
    const value = known.get(t.id);
    if (value !== undefined) return value;
    const layer = t.sourceLayer as tfl.layers.Layer;
    const inputs = (t.inputs ?? []) as Symbolic[];
    if (inputs.length === 0) {
      throw new ArgumentError(`${context}: the model '${model.name}' reads the input '${t.name}', which is not ` +
        `one of its inputs`);
    }
    const key = `${layer.id}:${t.nodeIndex}`;
    let outputs = done.get(key);
    if (outputs === undefined) {
      const ins = inputs.map(visit);
      outputs = isLayersModel(layer) ?
        openNested(graph, layer, `${prefix}${layer.name}/`, ins, context) :
        addNode(graph, layer, prefix, t, ins, context);
      done.set(key, outputs);
    }
    return outputs[t.tensorIndex ?? 0]!;
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
  return openModel(graph, model, prefix, new Map(inputs.map((t, i) => [t.id, ins[i]!])), context);
}

function addNode(graph: ModelGraph, layer: tfl.layers.Layer, prefix: string, t: Symbolic, ins: number[],
    context: string): number[] {
  const call = layer.inboundNodes[t.nodeIndex!]!;  // the call that returned t
  const built = call.inputTensors as Symbolic[];
  const inputShapes = ins.map((v) => graph.shapes[v]!);
  let outShapes: Shape[] = call.outputTensors.map((s) => s.shape);
  if (!built.every((s, i) => sameShape(s.shape, inputShapes[i]!))) {  // a nested model called at another shape
    const shapeArg = inputShapes.length === 1 ? inputShapes[0]! : inputShapes;
    let computed: tfl.Shape | tfl.Shape[];
    try {
      // the check `apply` makes on real inputs (a Dense built for 4 features refuses 144);
      // it reads only the shape, rank and dtype of what it is given
      (layer as unknown as {assertInputCompatibility(x: unknown[]): void}).assertInputCompatibility(
        inputShapes.map((shape, i) => ({shape, rank: shape.length, dtype: built[i]!.dtype})));
      computed = layer.computeOutputShape(shapeArg as tfl.Shape | tfl.Shape[]);
    } catch (err) {
      throw new UnsupportedError(`${context}: layer '${prefix}${layer.name}' (${layer.getClassName()}) cannot be ` +
        `bounded on input shape ${describe(shapeArg)}, where its nested model is called (it was built on ` +
        `${describe(built.length === 1 ? built[0]!.shape : built.map((b) => b.shape))}): ${(err as Error).message}`);
    }
    outShapes = outShapes.length === 1 ? [computed as Shape] : computed as Shape[];
  }
  const node: GraphNode = {name: prefix + layer.name, prefix, layer, inputs: ins, outputs: [], inputShapes};
  for (const shape of outShapes) {
    node.outputs.push(graph.shapes.length);
    graph.shapes.push(shape);
    graph.producers.push(node);
  }
  graph.nodes.push(node);
  return node.outputs;
}

/**
 * Layers that only move values, or are the identity at inference: an activation before them
 * is still the model's output activation.
 */
const SHAPE_ONLY = new Set(['Reshape', 'Flatten', 'Permute', 'Dropout', 'SpatialDropout1D', 'AlphaDropout',
  'GaussianDropout', 'GaussianNoise']);

function shapeOnly(layer: tfl.layers.Layer): boolean {
  const cls = layer.getClassName();
  return SHAPE_ONLY.has(cls) ||
    (cls === 'Activation' && (layer as unknown as {activation?: {getClassName(): string}}).activation?.getClassName() === 'linear');
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
 * Runs the graph on `inputs` (one tensor per model input) in inference mode, as `predict`
 * does, with the layer of any node in `replace` called instead of the node's own. Returns
 * the model's outputs; call it inside `tf.tidy` (the intermediate values are not disposed).
 */
export function runGraph(graph: ModelGraph, inputs: Tensor[],
    replace: ReadonlyMap<GraphNode, tfl.layers.Layer> = new Map()): Tensor[] {
  const values: Tensor[] = [];
  graph.inputs.forEach((v, i) => { values[v] = inputs[i]!; });
  for (const node of graph.nodes) {
    if (node.inputs.length === 0) continue;
    const ins = node.inputs.map((v) => values[v]!);
    const layer = replace.get(node) ?? node.layer;
    const out = layer.apply(ins.length === 1 ? ins[0]! : ins) as Tensor | Tensor[];
    (Array.isArray(out) ? out : [out]).forEach((y, i) => { values[node.outputs[i]!] = y; });
  }
  return graph.outputs.map((v) => values[v]!);
}
