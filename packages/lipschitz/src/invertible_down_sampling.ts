/**
 * `InvertibleDownSampling` (deel-lip's; Anil et al. 2019's invertible down-sampling): moves
 * each `p0 x p1` block of positions into the channels, a permutation of the inputs.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {LayerArgs} from '@tensorflow/tfjs-layers/dist/engine/topology';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import type {StandardExportContext} from '@deepspline/layers';
import {argsObject, channelsLastArg, firstInput, imageShape, poolSizeArg} from './layer_args.js';
import {registerLipschitzRule} from './rule_registry.js';

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
    return tf.tidy(() => {
      const x = firstInput(inputs);
      const [, h, w, c] = this.computeOutputShape(x.shape) as number[];
      const [p0, p1] = this.poolSize;
      const blocks = tf.reshape(x, [-1, h!, p0, w!, p1, x.shape[3]!]);
      return tf.reshape(tf.transpose(blocks, [0, 1, 3, 5, 2, 4]), [-1, h!, w!, c!]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {...super.getConfig(), poolSize: this.poolSize, dataFormat: 'channelsLast'};
  }
}
tf.serialization.registerClass(InvertibleDownSampling);

// A permutation of the entries: |P x|_p = |x|_p for every p.
registerLipschitzRule(InvertibleDownSampling.className, () => 1);

/**
 * A permutation of a 4-D input as standard layers: `Reshape` to `blocks`, `Permute` by `order`
 * (1-based, batch axis excluded, as Keras), `Reshape` to `outShape`. The input's non-batch
 * shape must be known.
 */
export function exportPermutation(layer: tfl.layers.Layer, x: tfl.SymbolicTensor, blocks: number[], order: number[],
    outShape: number[], context: StandardExportContext): tfl.SymbolicTensor {
  if (x.shape.slice(1).some((d) => d == null)) {
    throw new UnsupportedError(`exportToStandardLayers: ${layer.getClassName()} '${layer.name}' has input shape ` +
      `${describe(x.shape)}; its standard form (Reshape, Permute, Reshape) needs a fully known shape except the batch`);
  }
  const split = tfl.layers.reshape({targetShape: blocks, name: context.uniqueName(`${layer.name}_blocks`)})
    .apply(x) as tfl.SymbolicTensor;
  const moved = tfl.layers.permute({dims: order, name: context.uniqueName(`${layer.name}_permute`)})
    .apply(split) as tfl.SymbolicTensor;
  return tfl.layers.reshape({targetShape: outShape, name: context.uniqueName(layer.name)}).apply(moved) as tfl.SymbolicTensor;
}

registerStandardExport(InvertibleDownSampling.className, (layer, [x], context) => {
  const l = layer as InvertibleDownSampling;
  const [, h, w, c] = l.computeOutputShape(x!.shape) as number[];
  const [p0, p1] = l.poolSize;
  return exportPermutation(l, x!, [h!, p0, w!, p1, x!.shape[3]!], [1, 3, 5, 2, 4], [h!, w!, c!], context);
});

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
