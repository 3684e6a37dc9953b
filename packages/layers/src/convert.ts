/**
 * `withSplineActivations`: turns an existing tfjs-layers model into a deep spline network by
 * replacing every ReLU-family activation with a {@link SplineActivation} initialised to that
 * activation, so that the new model computes the same function before training.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Regularizer} from '@tensorflow/tfjs-layers/dist/regularizers';
import type {Constraint} from '@tensorflow/tfjs-layers/dist/constraints';
import type {Kwargs} from '@tensorflow/tfjs-layers/dist/types';
import {ArgumentError, coefficientsFromFunction, DeepSplineError, splineGrid, UnsupportedError} from '@deepspline/core';
import {checkArgsObject, describe} from '@deepspline/core/internal';
import type {SplineGrid} from '@deepspline/core';
import {DEFAULT_RANGE, DEFAULT_SIZE, SplineActivation} from './spline_activation.js';
import type {SplineActivationArgs} from './spline_activation.js';
import {LEAKY_RELU_SLOPE} from './inits.js';
import type {SplineInit} from './inits.js';
import {isLayersModel} from './guards.js';
import {isRegisteredClass} from './serialization.js';

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
   * Which layers to convert: called with every layer of the model (nested models: with their
   * layers); return false to keep a layer unchanged (cloned, its activation kept).
   * @defaultValue convert every ReLU-family activation
   */
  filter?: (layer: tfl.layers.Layer) => boolean;
}

/** A ReLU-family activation: per-channel function `x -> x >= 0 ? min(x, max) : slope_n x`. */
interface ReluLike {
  /** Negative-side slope per channel (a single value when it does not vary). */
  slopes: number[];
  /** Upper clip (ReLU6, `ReLU({maxValue})`), or `undefined`. */
  maxValue?: number;
  /** Description for error messages and the spline's `init`. */
  kind: string;
}

interface InternalNode {
  inputTensors: tfl.SymbolicTensor[];
  outputTensors: tfl.SymbolicTensor[];
  callArgs?: Kwargs;
}

interface InternalLayer {
  inboundNodes: InternalNode[];
}

/** Layer classes whose `activation` option can be split off into a spline layer. */
const SPLITTABLE = new Set(['Dense', 'Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose',
  'Conv3DTranspose', 'SeparableConv2D', 'DepthwiseConv2D']);

/** `activation` identifiers of the ReLU family. */
const RELU_NAMES: Record<string, ReluLike> = {
  relu: {slopes: [0], kind: 'relu'},
  relu6: {slopes: [0], maxValue: 6, kind: 'relu6'},
};

function activationName(layer: tfl.layers.Layer): string | undefined {
  const config = layer.getConfig();
  const act = config.activation;
  if (act == null) return undefined;
  if (typeof act === 'string') return act;
  const obj = act as {className?: string};
  return typeof obj.className === 'string' ? obj.className : undefined;
}

/**
 * The ReLU-family activation that `layer` applies (as an activation layer or through its
 * `activation` option), or `undefined`.
 */
function reluLike(layer: tfl.layers.Layer): ReluLike | undefined {
  const cls = layer.getClassName();
  const config = layer.getConfig();
  if (cls === 'ReLU') {
    const maxValue = config.maxValue as unknown;
    // tfjs clips with clipByValue(x, 0, maxValue): Infinity does not clip, a negative or NaN
    // clip value fails there at the first call.
    if (maxValue == null || maxValue === Infinity) return {slopes: [0], kind: 'relu'};
    if (typeof maxValue !== 'number' || !(maxValue >= 0)) {
      throw new ArgumentError(`${CONTEXT}: layer '${layer.name}' (ReLU) has maxValue ` +
        `${describe(maxValue)}; expected a number >= 0 (tfjs's own ReLU fails on it)`);
    }
    return {slopes: [0], maxValue, kind: `ReLU(maxValue ${maxValue})`};
  }
  if (cls === 'LeakyReLU') {
    const alpha = config.alpha as number;
    return {slopes: [alpha], kind: `leakyReLU(alpha ${alpha})`};
  }
  if (cls === 'PReLU') {
    return {slopes: preluSlopes(layer), kind: 'PReLU'};
  }
  if (cls === 'ThresholdedReLU') {
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' (ThresholdedReLU) is discontinuous; a ` +
      `continuous linear spline cannot reproduce it. Replace it by hand or exclude it with filter`);
  }
  const name = activationName(layer);
  if (name != null && name in RELU_NAMES) {
    if (cls === 'Activation' || SPLITTABLE.has(cls)) return RELU_NAMES[name];
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' (${cls}) applies the activation ` +
      `'${name}' internally, which cannot be split off into a spline layer; supported are ` +
      `Activation, ReLU, LeakyReLU, PReLU layers and the activation option of ` +
      `${[...SPLITTABLE].join(', ')}. Exclude it with filter to keep it`);
  }
  return undefined;
}

/** The per-channel negative slopes of a PReLU layer (its alpha must not vary over other axes). */
function preluSlopes(layer: tfl.layers.Layer): number[] {
  const [alpha] = layer.getWeights();
  const shape = alpha.shape;
  const channels = shape[shape.length - 1];
  const values = alpha.dataSync();
  const rows = values.length / channels;
  for (let r = 1; r < rows; ++r) {
    for (let c = 0; c < channels; ++c) {
      if (values[r * channels + c] !== values[c]) {
        throw new ArgumentError(`${CONTEXT}: PReLU layer '${layer.name}' has alpha of shape ` +
          `${describe(shape)} that varies along axes other than the last (channel) axis; a ` +
          `spline layer has one activation per channel. Use sharedAxes on the non-channel ` +
          `axes, or exclude the layer with filter`);
      }
    }
  }
  return Array.from(values.subarray(0, channels));
}

function checkChannelsLast(layer: tfl.layers.Layer): void {
  const format = layer.getConfig().dataFormat;
  if (format === 'channelsFirst') {
    throw new UnsupportedError(`${CONTEXT}: layer '${layer.name}' uses dataFormat 'channelsFirst'; spline ` +
      `activations act on the last axis, so only channelsLast models are supported`);
  }
}

/** The value of a ReLU-family activation with negative slope `slope`. */
function reluValue(act: ReluLike, slope: number, x: number): number {
  const y = x >= 0 ? x : slope * x;
  return act.maxValue !== undefined && y > act.maxValue ? act.maxValue : y;
}

/**
 * Checks that the spline grid reproduces `act` for every input: a knot at 0 (odd size) and,
 * for a clip value `m > 0`, a knot at `m` below the last knot, so that the segments from `m`
 * on are flat (beyond the grid the spline continues with its end segments' slopes).
 */
function checkGrid(act: ReluLike, grid: SplineGrid, layerName: string): void {
  if (grid.size % 2 === 0) {
    throw new ArgumentError(`${CONTEXT}: expected an odd size so that a knot sits at 0, where the ` +
      `${act.kind} activation of layer '${layerName}' bends; got size ${grid.size}`);
  }
  const m = act.maxValue;
  if (m === undefined || m === 0 || clipOnInnerKnot(m, grid)) return;
  const u = (m - grid.start) / grid.step;
  const where = m < grid.range && Math.abs(u - Math.round(u)) > KNOT_TOLERANCE ?
    `lies inside the grid [${grid.start}, ${grid.range}] but not on a knot (spacing ${grid.step})` :
    `is not a knot below the last one of the grid [${grid.start}, ${grid.range}], so the ` +
    `spline would keep rising beyond the grid instead of staying at ${m}`;
  throw new ArgumentError(`${CONTEXT}: the ${act.kind} activation of layer '${layerName}' bends at ` +
    `${m}, which ${where}; choose range or grid so that ${m} is a knot below the last one ` +
    `(e.g. range ${autoRange(m, grid.size)} for size ${grid.size}), or give neither and ` +
    `the grid of this layer is chosen so`);
}

/** How far (in knot spacings) a clip value may lie from a knot and still count as on it. */
const KNOT_TOLERANCE = 1e-6;

/** True when the clip value `m` is a knot of `grid` with at least one knot above it. */
function clipOnInnerKnot(m: number, grid: SplineGrid): boolean {
  const u = (m - grid.start) / grid.step;
  return Math.abs(u - Math.round(u)) <= KNOT_TOLERANCE && Math.round(u) <= grid.size - 2;
}

/** The range that puts the clip value `m` on the second-to-last knot of `size` knots. */
function autoRange(m: number, size: number): number {
  const half = (size - 1) / 2;
  return m * half / (half - 1);
}

/**
 * The grid of the spline that replaces `act`: `range` or `grid` when given (checked), else
 * the default range, or, for a clip value that is not a knot below the last one of the
 * default grid, the range that puts it on the second-to-last knot (same size).
 */
function gridFor(act: ReluLike, args: WithSplineActivationsArgs, layerName: string): SplineGrid {
  const size = args.size ?? DEFAULT_SIZE;
  const given = args.range != null || args.grid != null;
  let grid = splineGrid({size, range: given ? args.range : DEFAULT_RANGE, grid: args.grid}, CONTEXT);
  const m = act.maxValue;
  if (!given && m !== undefined && m > 0 && !clipOnInnerKnot(m, grid) && grid.size % 2 === 1) {
    if (grid.size < 5) {
      throw new ArgumentError(`${CONTEXT}: the ${act.kind} activation of layer '${layerName}' bends at ` +
        `0 and ${m}; a spline that reproduces it needs knots at both and one above ${m}, so ` +
        `size >= 5, got size ${grid.size}`);
    }
    grid = splineGrid({size, range: autoRange(m, grid.size)}, CONTEXT);
  }
  checkGrid(act, grid, layerName);
  return grid;
}

/** The `init` stored in the new layer's config (the exact coefficients are written after). */
function splineInit(act: ReluLike): SplineInit {
  if (act.maxValue === undefined && act.slopes.length === 1) {
    if (act.slopes[0] === 0) return 'relu';
    if (Math.abs(act.slopes[0] - LEAKY_RELU_SLOPE) < 1e-12) return 'leaky_relu';
  }
  const slope = act.slopes[0];
  return (x: number) => reluValue(act, slope, x);
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

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 1; taken.has(name); ++i) name = `${base}_${i}`;
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
  /** For nested models: the converted model. */
  nested?: tfl.LayersModel;
}

function cloneLayer(layer: tfl.layers.Layer, overrides: tf.serialization.ConfigDict = {}):
    tfl.layers.Layer {
  const config = {...layer.getConfig()};
  delete config.batchInputShape;
  delete config.inputShape;
  Object.assign(config, overrides);
  const cls = layer.constructor as unknown as tf.serialization.SerializableConstructor<tfl.layers.Layer>;
  const clone = cls.fromConfig(cls, config);
  return clone;
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
  const spline = makeSpline({
    name: uniqueName(`${layer.name}_spline`, taken),
    size: grid.size,
    ...(args.grid != null ? {grid: args.grid} : {range: grid.range}),
    shared: args.shared ?? false,
    init: splineInit(act),
    coefficientsRegularizer: resolveRegularizerFor(args, layer.name),
    coefficientsConstraint: args.coefficientsConstraint,
    maxSlope: args.maxSlope,
  });
  return {original: layer, clone: split ? cloneLayer(layer, {activation: 'linear'}) : null, spline, act};
}

const SPLINE_ARGS = new WeakMap<SplineActivation, SplineActivationArgs>();

function makeSpline(args: SplineActivationArgs): SplineActivation {
  const layer = new SplineActivation(args);
  SPLINE_ARGS.set(layer, args);
  return layer;
}

/** The arguments a (not yet built) spline layer of this module was created with. */
function splineConfig(layer: SplineActivation): SplineActivationArgs {
  return SPLINE_ARGS.get(layer) as SplineActivationArgs;
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

function checkModel(model: unknown): asserts model is tfl.LayersModel {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`${CONTEXT}: expected a tf.LayersModel or tf.Sequential, got ` +
      `${describe(model)}`);
  }
  if (model.inputs == null || model.inputs.length === 0) {
    throw new ArgumentError(`${CONTEXT}: model '${model.name}' is not built (it has no inputs); give its ` +
      `first layer an inputShape or call model.build first`);
  }
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
    first.spline = new SplineActivation({...splineConfig(first.spline), batchInputShape: input.shape,
      dtype: input.dtype});
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
  const taken = new Set(model.layers.map((l) => l.name));
  const reps = new Map<tfl.layers.Layer, Replacement>();
  const mapped = new Map<number, tfl.SymbolicTensor>();
  const newInputs = new Map<number, tfl.SymbolicTensor>();
  const visit = (st: tfl.SymbolicTensor): tfl.SymbolicTensor => {
    const done = mapped.get(st.id);
    if (done != null) return done;
    const layer = st.sourceLayer;
    if (layer.getClassName() === 'InputLayer') {
      const input = tfl.input({batchShape: st.shape, dtype: st.dtype, name: layer.name});
      mapped.set(st.id, input);
      newInputs.set(st.id, input);
      return input;
    }
    const node = (layer as unknown as InternalLayer).inboundNodes[st.nodeIndex];
    const inputs = node.inputTensors.map(visit);
    let rep = reps.get(layer);
    if (rep == null) {
      rep = makeReplacement(layer, args, taken, created);
      reps.set(layer, rep);
    }
    const outs = applyReplacement(rep, inputs.length === 1 ? inputs[0] : inputs, node.callArgs);
    const list = Array.isArray(outs) ? outs : [outs];
    if (list.length !== node.outputTensors.length) {
      throw new DeepSplineError(`${CONTEXT}: layer '${layer.name}' produced ${list.length} outputs after ` +
        `conversion, expected ${node.outputTensors.length}`);
    }
    node.outputTensors.forEach((t, i) => mapped.set(t.id, list[i]));
    const result = mapped.get(st.id);
    if (result == null) {
      throw new DeepSplineError(`${CONTEXT}: could not trace tensor '${st.name}' of layer '${layer.name}'`);
    }
    return result;
  };
  const outputs = model.outputs.map(visit);
  const inputs = model.inputs.map((st) => {
    const t = newInputs.get(st.id) ?? visit(st);
    return t;
  });
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
  checkModel(model);
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
