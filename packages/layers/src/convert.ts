/**
 * `withSplineActivations`: turns an existing tfjs-layers model into a deep spline network by
 * replacing every ReLU-family activation with a {@link SplineActivation} initialised to that
 * activation, so that the new model computes the same function before training.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {ArgumentError, coefficientsFromFunction} from '@deepspline/core';
import {checkArgsObject, describe} from '@deepspline/core/internal';
import {SplineActivation} from './spline_activation.js';
import type {SplineActivationArgs} from './spline_activation.js';
import {isLayersModel} from './guards.js';
import {checkBuiltModel, cloneLayer, freeName, mapGraph, modelGraph} from './graph.js';
import type {Constraint, Kwargs, Regularizer} from './tfjs_internals.js';
import {isRegisteredClass} from './serialization.js';
import {checkChannelsLast, gridFor, reluLike, reluValue, splineInit, SPLITTABLE} from './relu_family.js';
import type {ReluLike} from './relu_family.js';

const CONTEXT = 'withSplineActivations';

/** Arguments of {@link withSplineActivations}: the spline settings of every new layer. */
export interface WithSplineActivationsArgs {
  /**
   * Coefficients per spline, an odd integer >= 3 (a knot must sit at 0).
   * @defaultValue `21`
   */
  size?: number;
  /**
   * One-sided range `r` of the knots (`[-r, r]`). Exclusive with `grid`.
   * @defaultValue `2`, or for a clipped ReLU whose clip value `m` is not a knot below the
   * last one of that grid, `m (size - 1) / (size - 3)` (`m` on the second-to-last knot)
   */
  range?: number;
  /** Knot spacing instead of `range`. */
  grid?: number;
  /**
   * One spline per layer shared by every channel.
   * @defaultValue `false`
   */
  shared?: boolean;
  /**
   * Regularizer of each new layer's coefficients, e.g. `tv2Regularizer({lambda: 1e-4})` from
   * `@deepspline/lipschitz`: an instance (re-created from its config for every layer when
   * its class is registered, so that per-layer state such as the grid is not shared), or a
   * function returning a fresh regularizer for each layer.
   */
  coefficientsRegularizer?: Regularizer | tf.serialization.ConfigDict | string |
    ((layerName: string) => Regularizer | undefined);
  /** Constraint of each new layer's coefficients (see `constraintCallback`). */
  coefficientsConstraint?: Constraint | tf.serialization.ConfigDict | string;
  /** Slope bound of each new layer (see `SplineActivationArgs.maxSlope`). */
  maxSlope?: number;
  /**
   * A learnable scale per activation in each new layer (see
   * `SplineActivationArgs.learnableScale`); it starts at 1, so the converted model still
   * computes the original function.
   * @defaultValue `false`
   */
  learnableScale?: boolean;
  /**
   * Which layers to convert: called with every layer of the model (nested models: with their
   * layers); return false to keep a layer unchanged (cloned, its activation kept).
   * @defaultValue convert every ReLU-family activation
   */
  filter?: (layer: tfl.layers.Layer) => boolean;
}


function resolveRegularizerFor(args: WithSplineActivationsArgs, layerName: string):
    Regularizer | tf.serialization.ConfigDict | string | undefined {
  const r = args.coefficientsRegularizer;
  if (r == null) return undefined;
  if (typeof r === 'function') return r(layerName);
  if (typeof r === 'object' && typeof (r as Regularizer).getConfig === 'function' &&
      typeof (r as Regularizer).getClassName === 'function') {
    const reg = r as Regularizer;
    // A fresh instance per layer when the class is registered (per-layer grid state).
    return isRegisteredClass(reg.getClassName()) ?
      {className: reg.getClassName(), config: reg.getConfig()} : reg;
  }
  return r as tf.serialization.ConfigDict | string;
}

/** `base`, or the first of `base_1`, `base_2`, ... not in `taken`; added to `taken`. */
function uniqueName(base: string, taken: Set<string>): string {
  const name = freeName(base, (n) => taken.has(n));
  taken.add(name);
  return name;
}

/** What one original layer becomes: a clone (maybe with a linear activation) and a spline. */
interface Replacement {
  original: tfl.layers.Layer;
  /** The clone of the original layer (null when the whole layer becomes a spline). */
  clone: tfl.layers.Layer | null;
  /** The spline layer that follows the clone (or replaces the layer), or null. */
  spline: SplineActivation | null;
  act?: ReluLike;
  /** The arguments `spline` was created with (to re-create it with an input shape). */
  splineArgs?: SplineActivationArgs;
  /** For nested models: the converted model. */
  nested?: tfl.LayersModel;
}

/**
 * The replacement of `layer`, also pushed to `created` (whose built layers are disposed when
 * the conversion fails later).
 */
function makeReplacement(layer: tfl.layers.Layer, args: WithSplineActivationsArgs,
    taken: Set<string>, created: Replacement[]): Replacement {
  const rep = replacementOf(layer, args, taken);
  created.push(rep);
  return rep;
}

function replacementOf(layer: tfl.layers.Layer, args: WithSplineActivationsArgs,
    taken: Set<string>): Replacement {
  if (isLayersModel(layer)) {
    return {original: layer, clone: null, spline: null,
      nested: withSplineActivations(layer, args)};
  }
  const act = args.filter != null && !args.filter(layer) ? undefined : reluLike(layer);
  if (act === undefined) {
    return {original: layer, clone: cloneLayer(layer), spline: null};
  }
  checkChannelsLast(layer);
  const grid = gridFor(act, args, layer.name);
  if (args.shared && act.slopes.some((s) => s !== act.slopes[0])) {
    throw new ArgumentError(`${CONTEXT}: shared is true but PReLU layer '${layer.name}' has different ` +
      `alphas per channel (${describe(act.slopes)}); one shared spline cannot reproduce them`);
  }
  const cls = layer.getClassName();
  const split = SPLITTABLE.has(cls);
  const splineArgs: SplineActivationArgs = {
    name: uniqueName(`${layer.name}_spline`, taken),
    size: grid.size,
    ...(args.grid != null ? {grid: args.grid} : {range: grid.range}),
    shared: args.shared ?? false,
    init: splineInit(act),
    coefficientsRegularizer: resolveRegularizerFor(args, layer.name),
    coefficientsConstraint: args.coefficientsConstraint,
    maxSlope: args.maxSlope,
    ...(args.learnableScale != null ? {learnableScale: args.learnableScale} : {}),
  };
  return {original: layer, clone: split ? cloneLayer(layer, {activation: 'linear'}) : null,
    spline: new SplineActivation(splineArgs), act, splineArgs};
}

/** Writes the exact coefficients of `act` (per channel) into a built spline layer. */
function writeCoefficients(spline: SplineActivation, act: ReluLike): void {
  const [channels, size] = spline.getWeights()[0].shape;
  const c = coefficientsFromFunction(
    (x, n) => reluValue(act, act.slopes.length === 1 ? act.slopes[0] : act.slopes[n], x),
    size, spline.grid, channels);
  spline.setCoefficients(c);
  c.dispose();
}

function copyWeights(reps: Iterable<Replacement>): void {
  for (const rep of reps) {
    if (rep.clone != null) {
      const weights = rep.original.getWeights();
      if (weights.length > 0) rep.clone.setWeights(weights);
    }
    if (rep.spline != null && rep.act !== undefined) writeCoefficients(rep.spline, rep.act);
  }
}

function applyReplacement(rep: Replacement, inputs: tfl.SymbolicTensor | tfl.SymbolicTensor[],
    callArgs: Kwargs | undefined): tfl.SymbolicTensor | tfl.SymbolicTensor[] {
  if (rep.nested != null) {
    return rep.nested.apply(inputs, callArgs) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
  }
  let x = inputs;
  if (rep.clone != null) x = rep.clone.apply(x, callArgs) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
  if (rep.spline != null) x = rep.spline.apply(x) as tfl.SymbolicTensor;
  return x;
}

function convertSequential(model: tfl.Sequential, args: WithSplineActivationsArgs,
    created: Replacement[]): tfl.Sequential {
  const taken = new Set(model.layers.map((l) => l.name));
  const reps = model.layers.map((layer) => makeReplacement(layer, args, taken, created));
  const input = model.inputs[0];
  const out = tfl.sequential({name: `${model.name}_spline`});
  // The input shape goes on the first layer (an explicit InputLayer would show in `layers`).
  const first = reps[0];
  if (first == null || first.nested != null) {
    out.add(tfl.layers.inputLayer({batchInputShape: input.shape, dtype: input.dtype,
      name: uniqueName(`${model.name}_input`, taken)}));
  } else if (first.clone != null) {
    first.clone = cloneLayer(first.original, {
      ...(first.spline != null ? {activation: 'linear'} : {}),
      batchInputShape: input.shape, dtype: input.dtype});
  } else if (first.spline != null) {
    first.spline = new SplineActivation({...first.splineArgs, batchInputShape: input.shape, dtype: input.dtype});
  }
  for (const rep of reps) {
    if (rep.nested != null) out.add(rep.nested);
    if (rep.clone != null) out.add(rep.clone);
    if (rep.spline != null) out.add(rep.spline);
  }
  copyWeights(reps);
  return out;
}

function convertFunctional(model: tfl.LayersModel, args: WithSplineActivationsArgs,
    created: Replacement[]): tfl.LayersModel {
  // nested models are kept: each becomes its converted model, called where the original was
  const graph = modelGraph(model, CONTEXT, {nested: 'keep'});
  const taken = new Set(model.layers.map((l) => l.name));
  const reps = new Map<tfl.layers.Layer, Replacement>();
  const inputs = graph.inputs.map((v) => tfl.input({batchShape: graph.shapes[v] as number[],
    dtype: graph.dtypes[v], name: graph.producers[v]!.layer.name}));
  const outputs = mapGraph(graph, inputs, (node, ins) => {
    let rep = reps.get(node.layer);
    if (rep == null) {
      rep = makeReplacement(node.layer, args, taken, created);
      reps.set(node.layer, rep);
    }
    return applyReplacement(rep, ins.length === 1 ? ins[0]! : ins, node.callArgs);
  }, CONTEXT);
  const out = tfl.model({inputs, outputs, name: `${model.name}_spline`});
  copyWeights(reps.values());
  return out;
}

/**
 * Returns a NEW model in which every ReLU-family activation is replaced by a
 * {@link SplineActivation} initialised to that activation:
 *
 * - `Activation` layers with `'relu'` or `'relu6'`, and `ReLU` (incl. `maxValue`),
 *   `LeakyReLU` and `PReLU` layers (per-channel alphas become per-channel splines);
 * - the `activation` option (`'relu'`, `'relu6'`) of Dense, Conv1D/2D/3D, Conv2DTranspose,
 *   Conv3DTranspose, SeparableConv2D and DepthwiseConv2D layers: the layer is split into the
 *   same layer with a linear activation followed by a spline layer named `<name>_spline`.
 *
 * Every other layer is cloned from its config with the same name and its weights copied;
 * nested models are converted recursively. The new model computes the same outputs as the
 * original before training, for every input (up to float rounding): the spline's end
 * segments extend linearly, and a clipped ReLU (`relu6`, `ReLU({maxValue: m})`) gets a knot
 * at `m` with at least one knot above it, so that its spline is flat from `m` on. When
 * neither `range` nor `grid` is given and the default grid has no such knot, the clipped
 * layer's spline gets the range `m (K - 1) / (K - 3)` (size `K` kept), which puts `m` on the
 * second-to-last knot: `relu6` with size 21 gets range 6.67 and spacing 0.67. Sequential
 * models give a Sequential, functional models a functional model with the same graph. The
 * original model is not changed.
 *
 * Throws a clear error for: a model that is not built, an even `size` (the ReLU kink at 0
 * must be a knot), a clip value that is not a knot below the last one of a given `range` or
 * `grid` (or any clip with size 3), a negative or NaN `maxValue`, `channelsFirst` layers, a
 * PReLU whose alpha varies over non-channel axes, `ThresholdedReLU`, and layers that apply
 * a ReLU internally (e.g. `simpleRNN({activation: 'relu'})`); use `filter` to skip a layer.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import {withSplineActivations} from '@deepspline/layers';
 * import {tv2Regularizer} from '@deepspline/lipschitz';
 *
 * const relu = tf.sequential({layers: [
 *   tf.layers.dense({units: 16, inputShape: [2], activation: 'relu'}),
 *   tf.layers.dense({units: 1}),
 * ]});
 * const spline = withSplineActivations(relu, {size: 21, range: 2,
 *   coefficientsRegularizer: () => tv2Regularizer({lambda: 1e-4})});
 * // spline.predict(x) equals relu.predict(x) until it is trained.
 * ```
 */
export function withSplineActivations(model: tfl.LayersModel,
    args: WithSplineActivationsArgs = {}): tfl.LayersModel {
  checkBuiltModel(model, CONTEXT);
  checkArgsObject(args, CONTEXT);
  if (args.filter != null && typeof args.filter !== 'function') {
    throw new ArgumentError(`${CONTEXT}: expected filter to be a function (layer) => boolean, got ` +
      `${describe(args.filter)}`);
  }
  const created: Replacement[] = [];
  try {
    return model.getClassName() === 'Sequential' ?
      convertSequential(model as tfl.Sequential, args, created) : convertFunctional(model, args, created);
  } catch (error) {
    disposeBuilt(created);
    throw error;
  }
}

/** Disposes the weights of the layers (and converted nested models) a failed conversion built. */
function disposeBuilt(created: Replacement[]): void {
  for (const rep of created) {
    for (const layer of [rep.clone, rep.spline, rep.nested]) layer?.weights.forEach((w) => w.dispose());
  }
}
