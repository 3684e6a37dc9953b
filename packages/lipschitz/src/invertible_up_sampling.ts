/**
 * `InvertibleUpSampling` (deel-lip's): the inverse of {@link InvertibleDownSampling}, moving
 * channels back into `p0 x p1` blocks of positions; a permutation of the inputs.
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {registerStandardExport} from '@deepspline/layers';
import {argsObject, channelsLastArg, firstInput, imageShape, poolSizeArg} from './layer_args.js';
import {exportPermutation} from './invertible_down_sampling.js';
import type {InvertibleSamplingArgs} from './invertible_down_sampling.js';
import {registerLipschitzRule} from './rule_registry.js';

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
    return tf.tidy(() => {
      const x = firstInput(inputs);
      const [, rows, cols, c] = this.computeOutputShape(x.shape) as number[];
      const [p0, p1] = this.poolSize;
      const [h, w] = [x.shape[1]!, x.shape[2]!];
      const blocks = tf.reshape(x, [-1, h, w, c!, p0, p1]);
      return tf.reshape(tf.transpose(blocks, [0, 1, 4, 2, 5, 3]), [-1, rows!, cols!, c!]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), poolSize: this.poolSize, dataFormat: 'channelsLast'};
  }
}
tf.serialization.registerClass(InvertibleUpSampling);

// A permutation of the entries: |P x|_p = |x|_p for every p.
registerLipschitzRule(InvertibleUpSampling.className, () => 1);

registerStandardExport(InvertibleUpSampling.className, (layer, [x], context) => {
  const l = layer as InvertibleUpSampling;
  const [, rows, cols, c] = l.computeOutputShape(x!.shape) as number[];
  const [p0, p1] = l.poolSize;
  return exportPermutation(l, x!, [x!.shape[1]!, x!.shape[2]!, c!, p0, p1], [1, 4, 2, 5, 3], [rows!, cols!, c!], context);
});

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
