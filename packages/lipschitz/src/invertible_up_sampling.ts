/**
 * `InvertibleUpSampling` (deel-lip's): the inverse of {@link InvertibleDownSampling}, moving
 * channels back into `p0 x p1` blocks of positions; a permutation of the inputs.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {argsObject, channelsLastArg, firstInput, imageShape, poolSizeArg} from './layer_args.js';
import {permuteBlocks, registerPermutationLayer} from './block_permutation.js';
import type {BlockPermutation} from './block_permutation.js';
import type {InvertibleSamplingArgs} from './invertible_down_sampling.js';

const CONTEXT = 'invertibleUpSampling';

/**
 * Depth to space (deel-lip's `InvertibleUpSampling`): `[b, h, w, c p0 p1] -> [b, h p0, w p1, c]`,
 * the exact inverse of {@link InvertibleDownSampling} with the same `poolSize`. A permutation:
 * factor 1 in every l_p norm. The channels must be a multiple of `p0 p1`.
 */
export class InvertibleUpSampling extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'InvertibleUpSampling';
  /** The block `[p0, p1]`. */
  readonly poolSize: [number, number];

  constructor(args: InvertibleSamplingArgs) {
    super(argsObject<InvertibleSamplingArgs>(args, CONTEXT));
    this.poolSize = poolSizeArg(args.poolSize, CONTEXT);
    channelsLastArg(args.dataFormat, CONTEXT);
    this.inputSpec = [{ndim: 4}];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [b, h, w, c] = imageShape(inputShape, `${CONTEXT} '${this.name}'`);
    const [p0, p1] = this.poolSize;
    if (c != null && c % (p0 * p1) !== 0) {
      throw new ArgumentError(`${CONTEXT} '${this.name}': expected the channels (${c}) to be a multiple of ` +
        `${p0 * p1} (poolSize ${p0} x ${p1})`);
    }
    return [b ?? null, h == null ? null : h * p0, w == null ? null : w * p1, c == null ? null : c / (p0 * p1)];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = firstInput(inputs);
    return permuteBlocks(x, depthToSpace(this, x.shape));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), poolSize: this.poolSize, dataFormat: 'channelsLast'};
  }
}

/** `[h, w, c p0 p1] -> [h, w, c, p0, p1] -> [h, p0, w, p1, c] -> [h p0, w p1, c]`. */
function depthToSpace(layer: InvertibleUpSampling, inShape: number[]): BlockPermutation {
  const [, rows, cols, c] = layer.computeOutputShape(inShape) as number[];
  const [p0, p1] = layer.poolSize;
  return {blocks: [inShape[1]!, inShape[2]!, c!, p0, p1], order: [1, 4, 2, 5, 3], outShape: [rows!, cols!, c!]};
}
registerPermutationLayer(InvertibleUpSampling, depthToSpace);

/**
 * Creates an {@link InvertibleUpSampling} layer.
 *
 * @example
 * ```ts
 * const up = invertibleUpSampling({poolSize: 2});   // [b, 14, 14, 4] -> [b, 28, 28, 1]
 * ```
 */
export function invertibleUpSampling(args: InvertibleSamplingArgs): InvertibleUpSampling {
  return new InvertibleUpSampling(args);
}
