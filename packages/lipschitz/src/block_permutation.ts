/**
 * What the invertible sampling layers share (deel-lip's `InvertibleDownSampling` and
 * `InvertibleUpSampling`): both permute the entries of a 4-D input by blocks, so one function
 * runs the permutation, one builds its standard form, and one registers such a layer.
 */
import {UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {describe} from '@deepspline/core/internal';
import {registerStandardExport} from '@deepspline/layers';
import type {StandardExportContext} from '@deepspline/layers';
import {registerLipschitzRule} from './rule_registry.js';

/**
 * A permutation of the entries of a 4-D input: reshape to `[batch, ...blocks]`, move the axes
 * by `order` (1-based over the non-batch axes, as Keras's `Permute`), reshape to
 * `[batch, ...outShape]`.
 */
export interface BlockPermutation {
  blocks: number[];
  order: number[];
  outShape: number[];
}

/** Applies a {@link BlockPermutation} to `x`. */
export function permuteBlocks(x: Tensor, p: BlockPermutation): Tensor {
  return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(x, [-1, ...p.blocks]), [0, ...p.order]), [-1, ...p.outShape]));
}

/**
 * A {@link BlockPermutation} as standard layers: `Reshape`, `Permute`, `Reshape`. The input's
 * non-batch shape must be known.
 */
function exportPermutation(layer: tfl.layers.Layer, x: tfl.SymbolicTensor, p: BlockPermutation,
    context: StandardExportContext): tfl.SymbolicTensor {
  const split = tfl.layers.reshape({targetShape: p.blocks, name: context.uniqueName(`${layer.name}_blocks`)})
    .apply(x) as tfl.SymbolicTensor;
  const moved = tfl.layers.permute({dims: p.order, name: context.uniqueName(`${layer.name}_permute`)})
    .apply(split) as tfl.SymbolicTensor;
  return tfl.layers.reshape({targetShape: p.outShape, name: context.uniqueName(layer.name)}).apply(moved) as tfl.SymbolicTensor;
}

/**
 * Registers a layer class that permutes its input's entries by `permutation(layer, inShape)`:
 * for serialization, with the Lipschitz factor 1 in every l_p norm (`|P x|_p = |x|_p`), and
 * with its standard form (see {@link BlockPermutation}).
 */
export function registerPermutationLayer<L extends tfl.layers.Layer>(
    cls: tf.serialization.SerializableConstructor<L>,
    permutation: (layer: L, inShape: number[]) => BlockPermutation): void {
  tf.serialization.registerClass(cls);
  registerLipschitzRule(cls.className, () => 1);
  registerStandardExport(cls.className, (layer, [x], context) => {
    const p = permutation(layer as L, x!.shape as number[]);  // checks the known sizes first
    if (x!.shape.slice(1).some((d) => d == null)) {
      throw new UnsupportedError(`exportToStandardLayers: ${layer.getClassName()} '${layer.name}' has input shape ` +
        `${describe(x!.shape)}; its standard form (Reshape, Permute, Reshape) needs a fully known shape except the batch`);
    }
    return exportPermutation(layer, x!, p, context);
  });
}
