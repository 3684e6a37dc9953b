/** Certified robustness radii of classifiers from a Lipschitz bound (certified accuracy: certified_accuracy.ts). */
import {ArgumentError, NonFiniteError, UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {checkFinite, checkNonNegative, describe} from '@deepspline/core/internal';
import {isLayersModel} from '@deepspline/layers';
import {graphBoundReads} from './bound.js';
import {activationOf, cloneLayer, layerFields, modelGraph, runGraph, sourceCall} from '@deepspline/layers/internal';
import type {GraphNode, ModelGraph} from '@deepspline/layers/internal';
import {checkNorm} from './matrix_norm.js';
import type {Norm} from './matrix_norm.js';
import {runAsync, runSync, take} from './reads.js';
import type {TensorReads} from './reads.js';
import {prepareLayerReads} from './inference.js';

/** Options of {@link certifiedRadius}. */
export interface CertifiedRadiusOptions {
  /**
   * The vector norm of the perturbations (and of the bound): 1, 2 or Infinity.
   * @defaultValue 2
   */
  norm?: number;
  /**
   * A Lipschitz bound (in `norm`) of the scores that are certified: the logits when the
   * model ends in a sigmoid, hardSigmoid or softmax, else the outputs.
   * @defaultValue `lipschitzBound(scores, {norm}).bound`
   */
  bound?: number;
  /**
   * For a model with one output unit: the decision threshold, on the output (a probability
   * in (0, 1) when the output is a sigmoid or hardSigmoid; it is certified on the logit as
   * `log(t / (1 - t))`, or `(t - 0.5) / 0.2` for tfjs's hardSigmoid `clip(0.2 z + 0.5, 0, 1)`).
   * @defaultValue 0 on a logit, 0.5 on a sigmoid or hardSigmoid output
   */
  threshold?: number;
}

/** Result of {@link certifiedRadius}. */
export interface CertifiedRadius {
  /** Per sample: no input perturbation with norm below this changes the predicted class. */
  radius: number[];
  /** Per sample: the predicted class. */
  predicted: number[];
  /** Per sample: the margin of the certified scores (top minus runner-up, or distance to the threshold). */
  margin: number[];
  /** The Lipschitz bound used. */
  bound: number;
  /** The norm of the perturbations. */
  norm: Norm;
  /**
   * What was certified: `'logits'` when a final sigmoid, hardSigmoid or softmax was stripped (the radii
   * are those of the classifier all the same), else `'outputs'`.
   */
  scores: 'logits' | 'outputs';
}

const CONTEXT = 'certifiedRadius';

/**
 * The certified scores of a model: its outputs, or its logits when its output activation is a
 * sigmoid, hardSigmoid or softmax (then `graph` is the model's graph with that call replaced by its linear
 * version).
 */
interface Scores {
  graph: ModelGraph;
  output: Squashing | null;
  dispose: () => void;
}

/** Output activations certified on their logits (each is increasing, so it keeps the classes). */
type Squashing = 'sigmoid' | 'hardSigmoid' | 'softmax';
const SQUASHING = new Set<string>(['sigmoid', 'hardSigmoid', 'softmax']);

function scoresOf(model: tfl.LayersModel, context: string): Scores {
  const graph = modelGraph(model, context);
  if (graph.outputs.length !== 1 || graph.inputs.length !== 1) {
    throw new ArgumentError(`${context}: expected a model with one input and one output, got ${graph.inputs.length} ` +
      `inputs and ${graph.outputs.length} outputs`);
  }
  const {node, value} = sourceCall(graph, graph.outputs[0]!);
  const {layer} = node;
  const cls = layer.getClassName();
  const act = activationOf(layer);
  const squash = cls === 'Softmax' ? 'softmax' : act != null && SQUASHING.has(act) ? act as Squashing : null;
  if (squash == null) return {graph, output: null, dispose: () => {}};
  if (squash === 'softmax') {
    // the logits rank the classes as the probabilities do only if one softmax covers them all
    const shape = graph.shapes[value]!;
    const given = cls === 'Softmax' ? layerFields<{axis: number}>(layer).axis : -1;
    const axis = given < 0 ? shape.length + given : given;
    if (shape.some((d, i) => i > 0 && i !== axis && d !== 1)) {
      throw new UnsupportedError(`${context}: the model's output is a softmax over axis ${axis} of shape ` +
        `${describe(shape)} (layer '${node.name}'), not over all its outputs; expected one softmax over ` +
        `all the classes`);
    }
  }
  let linear: tfl.layers.Layer;
  let dispose = () => {};
  if (cls === 'Activation' || cls === 'Softmax') {
    linear = tfl.layers.activation({activation: 'linear', name: `${layer.name}_logits`});
  } else {
    // A fused activation: the same layer with a linear activation and the same weights.
    linear = cloneLayer(layer, {activation: 'linear', name: undefined});
    linear.apply(tfl.input({batchShape: node.inputShapes[0] as number[]}));
    linear.setWeights(layer.getWeights());
    dispose = () => { linear.dispose(); };  // its weights, and a spectral layer's cached kernel
  }
  const replaced: GraphNode = {...node, layer: linear};
  const nodes = graph.nodes.map((n) => (n === node ? replaced : n));
  const producers = graph.producers.map((n) => (n === node ? replaced : n));
  return {graph: {...graph, nodes, producers}, output: squash, dispose};
}

/** `c_p` with `|s_i - s_j| <= c_p ||s||_p`-changes: the dual norm of `e_i - e_j`. */
function pairFactor(norm: Norm): number {
  return norm === 2 ? Math.SQRT2 : norm === Infinity ? 2 : 1;
}

/** `x` if it is a tensor of points `[batch, ...inputShape]` with at least one point. */
export function checkPoints(x: unknown, context: string): Tensor {
  if (!(x instanceof tf.Tensor) || x.rank < 2) {
    const got = x instanceof tf.Tensor ? `a tensor of shape ${describe(x.shape)}` : describe(x);
    throw new ArgumentError(`${context}: expected points x as a tensor of shape [batch, ...inputShape], got ${got}`);
  }
  if (x.shape[0] === 0 || x.size === 0) {
    throw new ArgumentError(`${context}: expected at least one point, got x of shape ${describe(x.shape)}`);
  }
  return x;
}

/** `options` if it is an options object (`{}` when undefined). */
export function checkOptions<T>(options: T | null | undefined, context: string): T | Record<string, never> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(`${context}: expected an options object, got ${describe(options)}`);
  }
  return options;
}

/** The certified radii and predicted classes of the points `x` (checked), as {@link TensorReads}. */
export function* certify(model: tfl.LayersModel, x: Tensor, options: CertifiedRadiusOptions, context: string):
    TensorReads<CertifiedRadius> {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`${context}: expected a tfjs-layers model, got ${describe(model)}`);
  }
  const norm = checkNorm(options.norm ?? 2, context);
  const scores = scoresOf(model, context);
  try {
    let bound: number;
    if (options.bound !== undefined) {
      bound = checkNonNegative('bound', options.bound, context);
    } else {
      bound = (yield* graphBoundReads(scores.graph, norm, 'operator', {}, undefined, context)).bound;
      if (!Number.isFinite(bound)) {
        throw new NonFiniteError(`${context}: the computed Lipschitz bound is ${describe(bound)}; a radius needs a finite bound`);
      }
    }
    let threshold = 0;
    if (options.threshold !== undefined) {
      threshold = checkFinite('threshold', options.threshold, context);
      if (scores.output === 'sigmoid' || scores.output === 'hardSigmoid') {
        if (!(threshold > 0 && threshold < 1)) {
          throw new ArgumentError(`${context}: the model ends in a ${scores.output}, so threshold is a probability; ` +
            `expected 0 < threshold < 1, got ${describe(options.threshold)}`);
        }
        // the logit where the output crosses the threshold (tfjs's hardSigmoid: clip(0.2 z + 0.5, 0, 1))
        threshold = scores.output === 'sigmoid' ? Math.log(threshold / (1 - threshold)) : (threshold - 0.5) / 0.2;
      }
    }
    // the spectral layers' certified kernels, read as the driver reads, before predict needs them
    for (const node of scores.graph.nodes) yield* prepareLayerReads(node.layer);
    const out = tf.tidy(() => {
      const y = scores.output == null ? model.predict(x) as Tensor : runGraph(scores.graph, [x])[0]!;
      return tf.reshape(y, [y.shape[0]!, y.size / y.shape[0]!]);
    });
    const [batch, classes] = out.shape as [number, number];
    const data = yield* take(out);
    const radius: number[] = [];
    const predicted: number[] = [];
    const margin: number[] = [];
    for (let b = 0; b < batch; ++b) {
      const row = data.subarray(b * classes, (b + 1) * classes);
      let m: number;
      let cls: number;
      let scale: number;
      if (classes === 1) {
        cls = row[0]! > threshold ? 1 : 0;
        m = Math.abs(row[0]! - threshold);
        scale = bound;
      } else {
        cls = 0;
        for (let i = 1; i < classes; ++i) if (row[i]! > row[cls]!) cls = i;
        let second = -Infinity;
        for (let i = 0; i < classes; ++i) if (i !== cls) second = Math.max(second, row[i]!);
        m = row[cls]! - second;
        scale = pairFactor(norm) * bound;
      }
      if (!Number.isFinite(m)) {
        throw new NonFiniteError(`${context}: the model's scores for point ${b} are not finite (margin ${describe(m)})`);
      }
      predicted.push(cls);
      margin.push(m);
      radius.push(m === 0 ? 0 : scale > 0 ? m / scale : Infinity);
    }
    return {radius, predicted, margin, bound, norm, scores: scores.output == null ? 'outputs' : 'logits'};
  } finally {
    scores.dispose();
  }
}

/**
 * Certified robustness radii of a classifier: for class scores `s` (`[batch, classes]`,
 * classes >= 2), the radius is `margin / (c_p L)` where the margin is the top score minus
 * the runner-up, `L` a Lipschitz bound of the scores in the norm `p`, and `c_p` the norm of
 * `e_i - e_j` in the dual norm (`sqrt(2)` for l2, 2 for l-infinity, 1 for l1), because
 * `s_i - s_j` is `c_p L`-Lipschitz. For one output unit (a binary decision at `threshold`)
 * the radius is `|s - threshold| / L`.
 *
 * A model whose output activation is a sigmoid, hardSigmoid or softmax is certified on its logits: the
 * predicted class is the same, and the logits' bound does not carry the squashing's 1/4 or
 * 1/2 into the margin (a sigmoid output's margin around 0.5 is not a logit margin). The
 * activation is found back from the output through nested models and through layers that
 * only move values or are the identity at inference (`Reshape`, `Flatten`, `Permute`, the
 * dropout and noise layers); it may be fused into a layer or be an `Activation` or `Softmax`
 * layer. A softmax must cover the whole output (one softmax over all the classes); one over
 * a single axis of a larger output is an error. Nested models are bounded at the shapes they
 * are called with (see {@link lipschitzBound}).
 *
 * @example
 * ```ts
 * const {radius, predicted} = certifiedRadius(model, xs);
 * ```
 */
export function certifiedRadius(model: tfl.LayersModel, x: Tensor,
    options: CertifiedRadiusOptions = {}): CertifiedRadius {
  return runSync(certify(model, checkPoints(x, CONTEXT), checkOptions(options, CONTEXT), CONTEXT));
}

/**
 * {@link certifiedRadius} with asynchronous reads (`await data()`, never `dataSync()`): the
 * same radii. For the webgpu backend and pages that should not block (see
 * {@link lipschitzBoundAsync}). Do not train while the promise is pending.
 *
 * @example
 * ```ts
 * const {radius, predicted} = await certifiedRadiusAsync(model, xs);
 * ```
 */
export async function certifiedRadiusAsync(model: tfl.LayersModel, x: Tensor,
    options: CertifiedRadiusOptions = {}): Promise<CertifiedRadius> {
  const context = 'certifiedRadiusAsync';
  return runAsync(certify(model, checkPoints(x, context), checkOptions(options, context), context));
}
