/**
 * The `GroupSort` activation layer (Anil, Lucas, Grosse, "Sorting out Lipschitz function
 * approximation", ICML 2019), the gradient-norm-preserving 1-Lipschitz activation of
 * deel-lip's `GroupSort` / `GroupSort2`, and its Lipschitz rule.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {Kwargs, LayerArgs} from '@deepspline/layers/internal';
import {checkArgsObject, checkInteger, describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import type {StandardExportContext} from '@deepspline/layers';
import {registerLipschitzRule} from './rule_registry.js';

/** Arguments of {@link groupSort}. */
export interface GroupSortArgs extends LayerArgs {
  /**
   * Channels per group: an integer >= 2 that divides the size of the input's last axis.
   * 2 is MaxMin (deel-lip's `GroupSort2`); the size of the last axis sorts all channels
   * (deel-lip's `FullSort`).
   *
   * @defaultValue 2
   */
  groupSize?: number;
}

const CONTEXT = 'groupSort';
/** Channels per group when `groupSize` is not given (MaxMin). */
const DEFAULT_GROUP_SIZE = 2;

/** `args` if it is an arguments object; checked before `super`, which reads `args.name`. */
function checkArgs(args: unknown): GroupSortArgs {
  return checkArgsObject(args, CONTEXT) as GroupSortArgs;
}

/**
 * `sorted` with every row of `x` that holds a NaN all NaN: NaN has no place in an order, and
 * min and max (tfjs's `minimum`/`maximum`, so also the standard export's network of them)
 * propagate it. Inside the custom gradients (the tape has no gradient for `any`); the
 * gradient stays the permutation's.
 */
function nanRows(x: Tensor, sorted: Tensor): Tensor {
  const hasNaN = tf.broadcastTo(tf.any(tf.isNaN(x), 1, true), sorted.shape);
  return tf.where(hasNaN, tf.fill(sorted.shape, NaN), sorted);
}

/** `[rows, 1]` offsets `r * groupSize` that turn per-row indices into flat indices. */
function rowOffsets(rows: number, groupSize: number): Tensor {
  return tf.reshape(tf.range(0, rows * groupSize, groupSize, 'int32'), [rows, 1]);
}

/** Row-wise ascending sort of `[rows, groupSize]` values, with the gradient of a permutation. */
const sortRows = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [Tensor, tf.GradSaveFunc];
  const [rows, groupSize] = x.shape as [number, number];
  // tf.topk has no gradient in tfjs 4.22, hence customGrad. The indices of the top values of
  // -x: ascending x, ties in index order.
  const order = tf.topk(tf.neg(x), groupSize).indices;
  save([order]);
  const flat = tf.reshape(tf.add(order, rowOffsets(rows, groupSize)), [-1]);
  return {
    value: nanRows(x, tf.reshape(tf.gather(tf.reshape(x, [-1]), flat), x.shape)),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      // dx[order[j]] = dy[j]: gather dy by the inverse permutation, the order of `order`.
      const inverse = tf.topk(tf.neg(tf.cast(saved[0]!, 'float32')), groupSize).indices;
      const flatInverse = tf.reshape(tf.add(inverse, rowOffsets(rows, groupSize)), [-1]);
      return tf.reshape(tf.gather(tf.reshape(dy, [-1]), flatInverse), dy.shape);
    },
  };
});

/**
 * MaxMin of `[rows, 2]` pairs: `(a, b) -> (min, max)`. The gradient is that of the
 * permutation the forward pass applied, also at ties (the gradients of tf.minimum and
 * tf.maximum both go to `a` there: not a permutation, its Jacobian has norm sqrt(2)).
 * customGrad because the comparison has no gradient in tfjs.
 *
 * Elementwise against the pair reversed, `r = (b, a)`, with no split or concat (on wasm those
 * cost more than the comparison): the pair is in order where `s x <= s r` with `s = (1, -1)`
 * (slot 0: `a <= b`; slot 1: `-b <= -a`, the same test, and negation is exact), and the output
 * is `x` there, `r` elsewhere. A NaN in a pair fails both tests, so its outputs are set to NaN
 * from `x` and `r`'s NaN tests (slot 0 sees `a` and `b`, slot 1 `b` and `a`).
 */
const sortPairs = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [Tensor, tf.GradSaveFunc];
  const r = tf.reverse(x, 1);
  const sign = tf.tensor2d([[1, -1]]);  // +1 for the low slot of a pair, -1 for the high one
  const inOrder = tf.lessEqual(tf.mul(x, sign), tf.mul(r, sign));
  save([inOrder]);
  const nan = tf.logicalOr(tf.isNaN(x), tf.isNaN(r));
  return {
    value: tf.where(nan, tf.scalar(NaN), tf.where(inOrder, x, r)),
    gradFunc: (dy: Tensor, saved: Tensor[]) => tf.where(saved[0]!, dy, tf.reverse(dy, 1)),
  };
});

/**
 * Sorts each group of `groupSize` consecutive entries of the last axis of `x` in ascending
 * order. The groups are consecutive in memory, so `x` is viewed as `[rows, groupSize]`.
 */
export function sortGroups(x: Tensor, groupSize: number): Tensor {
  const groups = tf.reshape(x, [x.size / groupSize, groupSize]);
  return tf.reshape(groupSize === 2 ? sortPairs(groups) : sortRows(groups), x.shape);
}

/**
 * GroupSort: splits the last axis into groups of `groupSize` consecutive channels and sorts
 * each group in ascending order (as deel-lip). With `groupSize` 2 (MaxMin) every pair
 * `(a, b)` becomes `(min(a, b), max(a, b))`. A group that holds a NaN gives NaN in every one
 * of its outputs (for every `groupSize`, as `min` and `max` propagate NaN); other groups are
 * unaffected.
 *
 * The activation is 1-Lipschitz in every l_p norm and preserves gradient norms, so networks
 * of orthonormal layers and GroupSort are universal 1-Lipschitz approximators (Anil et al.
 * 2019), where ReLU networks with norm-constrained weights are not. {@link lipschitzBound}
 * counts it with factor 1.
 */
export class GroupSort extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'GroupSort';

  /** Channels per group. */
  readonly groupSize: number;

  constructor(args: GroupSortArgs = {}) {
    super(checkArgs(args));
    this.groupSize = checkInteger('groupSize', args.groupSize ?? DEFAULT_GROUP_SIZE, 2, CONTEXT);
    this.supportsMasking = true;
    this.inputSpec = [{minNDim: 2}];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null || !(channels > 0)) {
      throw new ArgumentError(`${CONTEXT} '${this.name}': the last axis of the input (channels) must ` +
        `have a known size; got input shape ${describe(shape)}`);
    }
    if (channels % this.groupSize !== 0) {
      throw new ArgumentError(`${CONTEXT} '${this.name}': expected groupSize ${this.groupSize} to divide ` +
        `the number of channels (the last axis of the input), got ${channels} channels`);
    }
    this.inputSpec = [{minNDim: 2, axes: {[-1]: channels}}];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => sortGroups(Array.isArray(inputs) ? inputs[0]! : inputs, this.groupSize));
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), groupSize: this.groupSize};
  }
}

tf.serialization.registerClass(GroupSort);

// 1-Lipschitz in every l_p norm: on each region where the order of every group is fixed,
// GroupSort is a permutation matrix, an isometry of every l_p norm; it is continuous and
// piecewise linear, so along the segment from x to y (cut at the region boundaries) the
// pieces add up to |f(x) - f(y)| <= sum |P_i (x_i - x_{i+1})| = |x - y|.
registerLipschitzRule(GroupSort.className, () => 1);

/**
 * GroupSort as standard layers, for an input `[B, S..., C]` and groups of `g`: `Reshape
 * [P C / g, g, 1]`, one `Cropping2D` per position in the group (column j), an odd-even
 * transposition sorting network of `Minimum`/`Maximum` merges on the columns (`g` rounds;
 * `g = 2`, MaxMin, is one `Minimum` and one `Maximum`), `Concatenate` of the sorted columns and
 * `Reshape` back. No weights and no arithmetic: every output is one of the inputs, exactly as
 * the sort (equal values in either order are the same values). A NaN spreads to one more
 * column per round, so after the `g` rounds its whole group is NaN, as the layer gives, on
 * backends whose `Maximum`/`Minimum` propagate NaN (cpu, webgl).
 */
export function exportGroupSort(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[],
    context: StandardExportContext): tfl.SymbolicTensor {
  const g = (layer as GroupSort).groupSize;
  const x = inputs[0]!;
  const outShape = x.shape.slice(1);
  if (outShape.filter((d) => d == null).length > 1) {
    throw new UnsupportedError(`exportToStandardLayers: GroupSort '${layer.name}' has input shape ` +
      `${describe(x.shape)}; standard layers can only reshape it back with at most one unknown ` +
      `non-batch dimension. Give the model's input a fully known shape (except the batch)`);
  }
  const name = (suffix: string) => context.uniqueName(`${layer.name}_${suffix}`);
  const groups = tfl.layers.reshape({targetShape: [-1, g, 1], name: name('groups')}).apply(x) as tfl.SymbolicTensor;
  const cols = Array.from({length: g}, (_, j) => tfl.layers.cropping2D({cropping: [[0, 0], [j, g - 1 - j]],
    name: name(`column${j}`)}).apply(groups) as tfl.SymbolicTensor);
  for (let round = 0; round < g; ++round) {
    for (let i = round % 2; i + 1 < g; i += 2) {
      const pair = [cols[i]!, cols[i + 1]!];
      cols[i] = tfl.layers.minimum({name: name(`min${round}_${i}`)}).apply(pair) as tfl.SymbolicTensor;
      cols[i + 1] = tfl.layers.maximum({name: name(`max${round}_${i}`)}).apply(pair) as tfl.SymbolicTensor;
    }
  }
  const sorted = tfl.layers.concatenate({axis: 2, name: name('sorted')}).apply(cols) as tfl.SymbolicTensor;
  return tfl.layers.reshape({targetShape: outShape.map((d) => d ?? -1), name: context.uniqueName(layer.name)})
    .apply(sorted) as tfl.SymbolicTensor;
}
registerStandardExport(GroupSort.className, exportGroupSort);

/**
 * Creates a {@link GroupSort} layer.
 *
 * @example
 * ```ts
 * const model = tf.sequential({layers: [
 *   tf.layers.dense({units: 16, inputShape: [2]}),
 *   groupSort({groupSize: 2}),  // MaxMin
 *   tf.layers.dense({units: 1}),
 * ]});
 * ```
 */
export function groupSort(args: GroupSortArgs = {}): GroupSort {
  return new GroupSort(args);
}
