/**
 * `prepareInference`: computes the certified inference kernels of a model's spectral layers
 * ahead of time, with asynchronous reads.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {ArgumentError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';
import {isLayersModel} from '@deepspline/layers';
import {findLayers} from '@deepspline/layers/internal';
import {runAsync} from './reads.js';
import type {TensorReads} from './reads.js';
import {SpectralConv2D, SpectralDense} from './spectral_layers.js';
/** {@link prepareInference} as {@link TensorReads}. */
export function* prepareInferenceReads(model: tfl.LayersModel, context = 'prepareInference'): TensorReads<void> {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`${context}: expected a tfjs-layers model (tf.sequential or tf.model), got ${describe(model)}`);
  }
  for (const {layer} of findLayers(model, isSpectral)) yield* prepareLayerReads(layer);
}

const isSpectral = (l: tfl.layers.Layer): l is SpectralDense | SpectralConv2D =>
  l instanceof SpectralDense || l instanceof SpectralConv2D;

/** The certified inference kernel of `layer` if it is a built spectral layer, as {@link TensorReads}. */
export function* prepareLayerReads(layer: tfl.layers.Layer): TensorReads<void> {
  if (isSpectral(layer) && layer.built) yield* layer.effectiveKernelReads();
}

/**
 * Computes, with asynchronous reads (`await data()`), the certified inference kernels of the
 * model's {@link SpectralDense} and {@link SpectralConv2D} layers (nested models included).
 * Each layer caches its kernel until its weights change, so after this resolves `predict`
 * and `evaluate` read nothing synchronously, until the next training step.
 *
 * A spectral layer needs one read to certify its kernel, and `predict` is synchronous: on
 * the webgpu backend (where a synchronous read is slow, and fails under headless SwiftShader)
 * await this before `predict`. On other backends it only moves that work off the first
 * `predict`. {@link lipschitzBoundAsync}, {@link certifiedRadiusAsync} and
 * {@link certifiedAccuracyAsync} compute (and cache) these kernels themselves.
 *
 * @example
 * ```ts
 * await prepareInference(model);
 * const y = model.predict(x);
 * ```
 */
export async function prepareInference(model: tfl.LayersModel): Promise<void> {
  await runAsync(prepareInferenceReads(model));
}
