/**
 * `InvertibleDownSampling` (deel-lip's; Anil et al. 2019's invertible down-sampling): moves
 * each `p0 x p1` block of positions into the channels, a permutation of the inputs.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {LayerArgs} from '@tensorflow/tfjs-layers/dist/engine/topology';
import {argsObject, channelsLastArg, firstInput, imageShape, poolSizeArg} from './layer_args.js';
import {permuteBlocks, registerPermutationLayer} from './block_permutation.js';
import type {BlockPermutation} from './block_permutation.js';

/** Arguments of {@link invertibleDownSampling} and {@link invertibleUpSampling}. */
export interface InvertibleSamplingArgs extends LayerArgs {
  /** The block `[p0, p1]` (rows, columns), or one integer for both. */
  poolSize: number | [number, number];
  /** Only `'channelsLast'`. @defaultValue 'channelsLast' */
  dataFormat?: 'channelsLast';
}

/** A size that `p` must divide; `null` (unknown) passes and is checked when called. */
function divided(size: number | null | undefined, p: number, what: string, context: string): number | null {
  if (size == null) return null;
  if (size % p !== 0) throw new ArgumentError(`${context}: expected the ${what} (${size}) to be a multiple of ${p}`);
  return size / p;
}

const CONTEXT = 'invertibleDownSampling';

/**
 * Space to depth (deel-lip's `InvertibleDownSampling`): `[b, h p0, w p1, c] -> [b, h, w, c p0 p1]`,
 * output channel `c p0 p1 + i p1 + j` at `(r, s)` holding the input at `(r p0 + i, s p1 + j)`,
 * channel `c` (deel-lip's order, so weights carry over). A permutation of the entries: an
 * isometry of every l_p norm ({@link lipschitzBound}: factor 1), inverted by
 * {@link InvertibleUpSampling}. The rows and columns must be multiples of the block.
 */
export class InvertibleDownSampling extends tfl.layers.Layer {
  /** Class name used for serialization. */
  static className = 'InvertibleDownSampling';
  /** The block `[p0, p1]`. */
  readonly poolSize: [number, number];

  constructor(args: InvertibleSamplingArgs) {
    super(argsObject<InvertibleSamplingArgs>(args, CONTEXT));
    this.poolSize = poolSizeArg(args.poolSize, CONTEXT);
    channelsLastArg(args.dataFormat, CONTEXT);
    this.inputSpec = [{ndim: 4}];
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const context = `${CONTEXT} '${this.name}'`;
    const [b, h, w, c] = imageShape(inputShape, context);
    const [p0, p1] = this.poolSize;
    return [b ?? null, divided(h, p0, 'rows', context), divided(w, p1, 'columns', context),
      c == null ? null : c * p0 * p1];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = firstInput(inputs);
    return permuteBlocks(x, spaceToDepth(this, x.shape));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), poolSize: this.poolSize, dataFormat: 'channelsLast'};
  }
}

/** `[h p0, w p1, c] -> [h, p0, w, p1, c] -> [h, w, c, p0, p1] -> [h, w, c p0 p1]`. */
function spaceToDepth(layer: InvertibleDownSampling, inShape: number[]): BlockPermutation {
  const [, h, w, c] = layer.computeOutputShape(inShape) as number[];
  const [p0, p1] = layer.poolSize;
  return {blocks: [h!, p0, w!, p1, inShape[3]!], order: [1, 3, 5, 2, 4], outShape: [h!, w!, c!]};
}
registerPermutationLayer(InvertibleDownSampling, spaceToDepth);

/**
 * Creates an {@link InvertibleDownSampling} layer.
 *
 * @example
 * ```ts
 * const down = invertibleDownSampling({poolSize: 2});   // [b, 28, 28, 1] -> [b, 14, 14, 4]
 * ```
 */
export function invertibleDownSampling(args: InvertibleSamplingArgs): InvertibleDownSampling {
  return new InvertibleDownSampling(args);
}
