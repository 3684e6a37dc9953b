/**
 * Upper bounds on the Lipschitz constant of a tfjs-layers model (docs/guides/concepts.md,
 * "Lipschitz bounds of a network"; the per-spline quantities are those of the `@deepspline/core`
 * README, "Semantics"): a walk over the layer graph that multiplies the per-layer factors of
 * the rule registry (rule_registry.ts) and combines branches at merge layers.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import {describe} from '@deepspline/core/internal';
import {isLayersModel} from '@deepspline/layers';
import {modelGraph, sourceCall} from '@deepspline/layers/internal';
import type {GraphNode, ModelGraph} from '@deepspline/layers/internal';
import {checkNorm} from './matrix_norm.js';
import type {Norm} from './matrix_norm.js';
import type {PowerIterationOptions} from './power_iteration.js';
import './builtin_rules.js';
import {concatBound, mulUp, sumUp, up} from './round_up.js';
import {BOUND_METHODS, lipschitzRule, lipschitzRuleNames} from './rule_registry.js';
import type {BoundMethod, LipschitzRuleContext} from './rule_registry.js';
import {maybeReads, runAsync, runSync} from './reads.js';
import type {TensorReads} from './reads.js';

/** Options of {@link lipschitzBound}. */
export interface LipschitzBoundOptions {
  /**
   * The vector norm on inputs and outputs: 1, 2 or Infinity.
   * @defaultValue `2`
   */
  norm?: number;
  /**
   * `'operator'`: operator-norm bound; `'paper'`: the reference's number (before
   * the output activation); `'paperOnOutput'`: the reference's formula through the output
   * activation. See {@link BoundMethod}.
   * @defaultValue `'operator'`
   */
  method?: BoundMethod;
  /** Options of the power iterations used for norm 2 (dense and convolution layers). */
  powerIteration?: PowerIterationOptions;
}

/** One layer's contribution to a bound. */
export interface LayerFactor {
  /** Layer name (`outer/inner` for a layer of a nested model). */
  name: string;
  /** Layer class name. */
  className: string;
  /**
   * The layer's Lipschitz factor under the chosen method and norm. For merge layers this is
   * 1 and `combine` tells how the branch bounds are combined instead.
   */
  factor: number;
  /** For merge layers: how the bounds of the inputs are combined. */
  combine?: 'sum' | 'mean' | 'concat';
}

/** Result of {@link lipschitzBound}. */
export interface LipschitzBound {
  /** The bound on the Lipschitz constant of the whole model (inputs to outputs). */
  bound: number;
  /** The norm used. */
  norm: Norm;
  /** The method used. */
  method: BoundMethod;
  /** Per-layer factors, in graph order. */
  layers: LayerFactor[];
}

/** A layer factor with what the constrain callback needs. */
export interface FactorEntry extends LayerFactor {
  /** The layer. */
  layer: tfl.layers.Layer;
  /** Present for layers whose factor can be shrunk (see `LipschitzFactor.rescale`). */
  rescale?: (r: number) => void;
}

const CONTEXT = 'lipschitzBound';

/** Throws unless `method` is one of {@link BOUND_METHODS}. */
export function checkMethod(method: unknown, context: string): BoundMethod {
  if (!(BOUND_METHODS as readonly unknown[]).includes(method)) {
    throw new ArgumentError(`${context}: expected method ${BOUND_METHODS.map((m) => `'${m}'`).join(', ')}, got ${describe(method)}`);
  }
  return method as BoundMethod;
}

const MERGE = new Set(['Add', 'Subtract', 'Average', 'Concatenate', 'Maximum', 'Minimum']);

interface Computed { factor: number, rescale?: (r: number) => void }

/** What a rule returned, as a checked factor; an error naming the rule, layer and value if it is none. */
function checkedFactor(out: unknown, node: GraphNode, walk: Walk): Computed {
  const cls = node.layer.getClassName();
  const isObject = out != null && typeof out === 'object';
  const factor = typeof out === 'number' ? out : isObject ? (out as {factor?: unknown}).factor : undefined;
  const rescale = isObject ? (out as {rescale?: unknown}).rescale : undefined;
  if (typeof factor !== 'number' || (rescale !== undefined && typeof rescale !== 'function')) {
    const returned = isObject ? `{factor: ${describe(factor)}, rescale: ${describe(rescale)}}` : describe(out);
    throw new ArgumentError(`${walk.context}: the Lipschitz rule registered for class ${cls} returned ${returned} ` +
      `for layer '${node.name}'; expected a finite number >= 0, or {factor, rescale?} with factor one and ` +
      `rescale a function`);
  }
  if (!(factor >= 0) || factor === Infinity) {
    throw new ArgumentError(`${walk.context}: layer '${node.name}' (${cls}) has Lipschitz factor ${describe(factor)}; ` +
      `expected a finite number >= 0 (the rule registered for class ${cls} returned it` +
      `${Number.isFinite(factor) ? '' : '; are the weights NaN or Infinite?'})`);
  }
  return rescale === undefined ? {factor} : {factor, rescale: rescale as (r: number) => void};
}

function* layerFactor(node: GraphNode, walk: Walk, key: string, isOutput: boolean): TensorReads<Computed> {
  const {layer} = node;
  const cls = layer.getClassName();
  const rule = lipschitzRule(cls);
  if (rule == null) {
    throw new UnsupportedError(`${walk.context}: unsupported layer '${node.name}' (class ${cls}); supported: ` +
      `${[...lipschitzRuleNames(), ...MERGE].sort().join(', ')}, nested Sequential/LayersModel; ` +
      `bound another layer class with registerLipschitzRule`);
  }
  const method = walk.method;
  const context: LipschitzRuleContext = {
    norm: walk.p, method, inputShape: node.inputShapes[0]!, isOutput, powerIteration: walk.options, key,
    activationFactor: (c: number) => (method === 'paper' && isOutput ? 1 : c),
  };
  return checkedFactor(yield* maybeReads(rule(layer, context)), node, walk);
}

interface Walk {
  p: Norm;
  method: BoundMethod;
  options: PowerIterationOptions;
  entries: FactorEntry[];
  seen: Map<tfl.layers.Layer, FactorEntry>;
  /** Per-layer factors already computed (by layer path and input shape), reused if given. */
  cache: Map<string, Computed>;
  /** Multiplies every adjustable (linear and spline) factor; 1 for the plain bound. */
  scale: number;
  /** The function the caller called, for error messages. */
  context: string;
}

/**
 * Re-evaluation of a bound when every adjustable factor is multiplied by `scale`, reusing
 * the factors computed by a previous walk (no norm is recomputed).
 */
export interface FactorCache {
  /** The cache filled by {@link boundWithEntriesReads}. */
  cache: Map<string, Computed>;
}

function record(walk: Walk, node: GraphNode, factor: number, rescale?: (r: number) => void,
    combine?: LayerFactor['combine']): void {
  const {layer} = node;
  const old = walk.seen.get(layer);
  if (old != null) {  // a shared layer called on several inputs: keep the largest factor
    old.factor = Math.max(old.factor, factor);
    return;
  }
  const entry: FactorEntry = {name: node.name, className: layer.getClassName(), factor, layer};
  if (combine != null) entry.combine = combine;
  if (rescale != null) entry.rescale = rescale;
  walk.entries.push(entry);
  walk.seen.set(layer, entry);
}

/**
 * The bound of a model's graph: per value, a bound on the Lipschitz constant of the map
 * from the model's inputs to it, node after node.
 */
function* graphBound(graph: ModelGraph, walk: Walk): TensorReads<number> {
  // 'paper' leaves out the output activation, also when shape-only layers follow it
  const outputs = new Set(graph.outputs.map((v) => sourceCall(graph, v).value));
  const values: number[] = [];
  for (const node of graph.nodes) {
    const {layer} = node;
    const cls = layer.getClassName();
    const ins = node.inputs.map((v) => values[v]!);
    let value: number;
    if (ins.length === 0) {
      record(walk, node, 1);
      value = 1;
    } else if (MERGE.has(cls)) {
      if (cls === 'Add' || cls === 'Subtract') {
        value = sumUp(ins);
        record(walk, node, 1, undefined, 'sum');
      } else if (cls === 'Average') {
        value = up(sumUp(ins) / ins.length);
        record(walk, node, 1, undefined, 'mean');
      } else {  // Concatenate, Maximum, Minimum
        value = concatBound(ins, walk.p);
        record(walk, node, 1, undefined, 'concat');
      }
    } else {
      if (ins.length !== 1) {
        if (lipschitzRule(cls) == null) yield* layerFactor(node, walk, '', false);
        throw new UnsupportedError(`${walk.context}: layer '${node.name}' (${cls}) has ${ins.length} inputs; ` +
          `only merge layers may have several`);
      }
      const key = `${node.name}:${JSON.stringify(node.inputShapes[0])}`;
      let computed = walk.cache.get(key);
      if (computed === undefined) {
        computed = yield* layerFactor(node, walk, key, node.outputs.some((v) => outputs.has(v)));
        walk.cache.set(key, computed);
      }
      const {factor, rescale} = computed;
      record(walk, node, factor, rescale);
      // every product rounded up: the bound is never below the exact product of the factors
      value = mulUp(rescale != null ? mulUp(factor, walk.scale) : factor, ins[0]!);
    }
    for (const v of node.outputs) values[v] = value;
  }
  return concatBound(graph.outputs.map((v) => values[v]!), walk.p);
}

/**
 * The bound and the per-layer entries (with the layer objects), for the callback, as
 * {@link TensorReads}.
 */
export function* boundWithEntriesReads(model: tfl.LayersModel, norm: Norm, method: BoundMethod,
    options: PowerIterationOptions = {}, reuse?: {cache: FactorCache['cache'], scale: number},
    context = CONTEXT): TensorReads<{bound: number, entries: FactorEntry[]}> {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`${context}: expected a tfjs-layers model (tf.sequential or tf.model), got ${describe(model)}`);
  }
  return yield* graphBoundReads(modelGraph(model, context), norm, method, options, reuse, context);
}

/** {@link boundWithEntriesReads} on a graph (one whose layers some nodes were given instead, say). */
export function* graphBoundReads(graph: ModelGraph, norm: Norm, method: BoundMethod,
    options: PowerIterationOptions = {}, reuse?: {cache: FactorCache['cache'], scale: number},
    context = CONTEXT): TensorReads<{bound: number, entries: FactorEntry[]}> {
  const walk: Walk = {p: norm, method, options, entries: [], seen: new Map(),
    cache: reuse?.cache ?? new Map(), scale: reuse?.scale ?? 1, context};
  const bound = yield* graphBound(graph, walk);
  return {bound, entries: walk.entries};
}

/**
 * An upper bound on the Lipschitz constant of `model` from its inputs to its outputs, for the
 * vector norm `norm` (1, 2 or Infinity). Layers in inference mode (BatchNormalization with
 * its moving statistics, dropout off).
 *
 * - `method: 'operator'` (default): a walk over the layer graph multiplying per-layer
 *   Lipschitz factors: dense kernels by their exact operator norm (norm 2: largest singular
 *   value by float64 power iteration; 1 and Infinity: max absolute row / column sums of the
 *   `[in, out]` kernel), convolutions by the norm of the convolution operator on the layer's
 *   input shape (norm 2: the exact operator's norm when it has at most `explicitLimit`
 *   entries, otherwise a bound from the kernel's Fourier symbol; 1 and Infinity: exact), activations by their known constants (fused ones included),
 *   spline layers by the largest exact spline Lipschitz constant over channels
 *   (`max |c[k+1] - c[k]| / step` of the float32 coefficients, in float64, rounded up). `Add` sums
 *   the bounds of its inputs, `Concatenate` combines them per norm (max, sum, root of sum of
 *   squares). Unsupported layers throw an error naming them.
 * - `method: 'paper'`: the reference's number, `prod max_ij |W_ij|` over dense and
 *   convolution kernels times `prod sum_n BV2(sigma_n)` over spline layers (biases
 *   ignored), taken before the model's output activation as DeepSplines computes it (its
 *   `lipschitz_bound()` on the pre-sigmoid network); other layers contribute their operator
 *   factors. It is what the reference reports, not a guaranteed bound in every norm.
 * - `method: 'paperOnOutput'`: the same product with the output activation's constant
 *   multiplied in (a sigmoid output: 1/4 of `'paper'`).
 *
 * Every layer factor comes from the rule registered for its class
 * ({@link registerLipschitzRule}); a layer class without a rule is an error naming it.
 * Nested models (a `Sequential` or `tf.model` used as a layer) are opened: each call is
 * bounded layer by layer at the input shape of that call, which may differ from the shape the
 * nested model was built on (a convolution block built on 2x2 and called on 12x12 is bounded
 * at 12x12); a layer that cannot take that shape (a `Dense` built for other features) is an
 * error naming it.
 * Norm-2 factors are proven upper bounds: a Lanczos estimate certified by a Cholesky
 * factorization for kernels and convolutions small enough to form as a matrix (see
 * {@link matrixNorm}), the Fourier symbol of the kernel for larger convolutions. The factors
 * are multiplied (and summed) in float64 with every operation rounded up, so the bound is
 * never below the exact product. A factor that is NaN or infinite (weights with NaN or
 * Infinity) is an error naming the layer.
 *
 * @example
 * ```ts
 * const {bound, layers} = lipschitzBound(model, {norm: 2});
 * ```
 */
export function lipschitzBound(model: tfl.LayersModel, options: LipschitzBoundOptions = {}): LipschitzBound {
  return runSync(lipschitzBoundReads(model, options, CONTEXT));
}

/**
 * {@link lipschitzBound} with asynchronous reads: the same walk, rules and numbers, reading
 * every tensor with `await data()` and never with `dataSync()`. Use it on the webgpu backend,
 * where a synchronous read is slow (and fails under headless SwiftShader), and wherever the
 * page should not block. Built-in rules read asynchronously; a rule registered as a plain
 * function (not a generator, see {@link LipschitzRule}) still reads synchronously. Do not
 * change the model's weights (train) while the promise is pending.
 *
 * @example
 * ```ts
 * const {bound} = await lipschitzBoundAsync(model, {norm: 2});
 * ```
 */
export function lipschitzBoundAsync(model: tfl.LayersModel, options: LipschitzBoundOptions = {}):
    Promise<LipschitzBound> {
  return runAsync(lipschitzBoundReads(model, options, 'lipschitzBoundAsync'));
}

/** {@link lipschitzBound} as {@link TensorReads}. */
export function* lipschitzBoundReads(model: tfl.LayersModel, options: LipschitzBoundOptions,
    context: string): TensorReads<LipschitzBound> {
  if (options == null || typeof options !== 'object') {
    throw new ArgumentError(`${context}: expected options {norm, method}, got ${describe(options)}`);
  }
  const norm = checkNorm(options.norm ?? 2, context);
  const method = checkMethod(options.method ?? 'operator', context);
  const {bound, entries} = yield* boundWithEntriesReads(model, norm, method, options.powerIteration ?? {},
    undefined, context);
  return {
    bound, norm, method,
    layers: entries.map(({name, className, factor, combine}) =>
      combine == null ? {name, className, factor} : {name, className, factor, combine}),
  };
}
