/**
 * `FullSort` (deel-lip's): sorts all channels, GroupSort with one group; 1-Lipschitz and
 * gradient-norm preserving.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {LayerArgs} from '@tensorflow/tfjs-layers/dist/engine/topology';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import {exportGroupSort, sortGroups} from './group_sort.js';
import {argsObject, firstInput, singleShape} from './layer_args.js';
import {registerLipschitzRule} from './rule_registry.js';

const CONTEXT = 'fullSort';

/**
 * FullSort (deel-lip's `FullSort`): sorts the whole last axis in ascending order, GroupSort
 * with a single group of all the channels (NaN handling and gradients as {@link GroupSort}).
 * 1-Lipschitz in every l_p norm ({@link lipschitzBound}: factor 1). `exportToStandardLayers`
 * writes it as GroupSort's sorting network of `Minimum`/`Maximum` layers (`c` rounds for `c`
 * channels: about `c^2` layers).
 */
export class FullSort extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'FullSort';
  private channels: number | null = null;

  constructor(args: LayerArgs = {}) {
    super(argsObject<LayerArgs>(args, CONTEXT));
    this.supportsMasking = true;
    this.inputSpec = [{minNDim: 2}];
  }

  /** The number of channels sorted together (the last axis' size; the layer must be built). */
  get groupSize(): number {
    if (this.channels == null) throw new ArgumentError(`${CONTEXT} '${this.name}': the layer is not built yet; call it on an input first`);
    return this.channels;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape);
    const channels = shape[shape.length - 1];
    if (channels == null || !(channels > 0)) {
      throw new ArgumentError(`${CONTEXT} '${this.name}': the last axis of the input (channels) must have a known ` +
        `size; got input shape ${describe(shape)}`);
    }
    this.channels = channels;
    this.inputSpec = [{minNDim: 2, axes: {[-1]: channels}}];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = firstInput(inputs);
      // one channel is already sorted (and sortGroups needs groups of at least 2)
      return this.groupSize === 1 ? tf.clone(x) : sortGroups(x, this.groupSize);
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }
}
tf.serialization.registerClass(FullSort);

// A permutation on each region where the order is fixed, continuous: 1-Lipschitz in every
// l_p norm (GroupSort's argument, group_sort.ts).
registerLipschitzRule(FullSort.className, () => 1);
registerStandardExport(FullSort.className, exportGroupSort);

/**
 * Creates a {@link FullSort} layer.
 *
 * @example
 * ```ts
 * const layer = fullSort();
 * layer.apply(tf.tensor2d([[3, -1, 2, 0]])).print();   // [[-1, 0, 2, 3]]
 * ```
 */
export function fullSort(args: LayerArgs = {}): FullSort {
  return new FullSort(args);
}
