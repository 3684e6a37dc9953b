/** Whole-model sparsity helpers over every `SplineActivation` layer (nested models included). */
import {ArgumentError} from '@deepspline/core';
import * as tfl from '@tensorflow/tfjs-layers';
import {checkNonNegative, describe} from '@deepspline/core/internal';
import {isLayersModel, isSplineLayer} from '@deepspline/layers';
import type {SplineActivation} from '@deepspline/layers';
import {findLayers} from '@deepspline/layers/internal';

/** Active-knot count of one spline layer. */
export interface LayerKnots {
  /** Layer name (`outer/inner` inside nested models). */
  name: string;
  /** Active knots summed over the layer's channels. */
  activeKnots: number;
  /** Active knots of each channel. */
  perChannel: number[];
}

/** Result of {@link modelActiveKnots} and {@link sparsify}. */
export interface ModelKnots {
  /** Active knots summed over every spline layer. */
  total: number;
  /** Per spline layer, in model order. */
  layers: LayerKnots[];
}

/** A spline layer found in a model. */
export interface FoundSplineLayer {
  /** Its path: the layer name, `outer/inner` inside nested models. */
  name: string;
  /** The layer. */
  layer: SplineActivation;
}

/** Every `SplineActivation` layer of `model`, recursing into nested models, with its path. */
export function splineLayers(model: tfl.LayersModel, prefix = ''): FoundSplineLayer[] {
  if (!isLayersModel(model)) {
    throw new ArgumentError(`splineLayers: expected a tfjs-layers model, got ${describe(model)}`);
  }
  return findLayers(model, isSplineLayer, prefix);
}

function checkThreshold(threshold: unknown, context: string): number {
  checkNonNegative('threshold', threshold, context);
  return threshold as number;
}

function count(model: tfl.LayersModel, threshold: number): ModelKnots {
  const layers = splineLayers(model).map(({name, layer}) => {
    const t = layer.activeKnots(threshold);
    const perChannel = Array.from(t.dataSync());
    t.dispose();
    return {name, activeKnots: perChannel.reduce((a, b) => a + b, 0), perChannel};
  });
  return {total: layers.reduce((a, l) => a + l.activeKnots, 0), layers};
}

/**
 * Counts the active knots (`|a_k| > threshold`, a_k the ReLU slopes of the "Semantics" section
 * of the `@deepspline/core` README) of every spline layer of `model`.
 *
 * @example
 * ```ts
 * const {total, layers} = modelActiveKnots(model, 1e-3);
 * ```
 */
export function modelActiveKnots(model: tfl.LayersModel, threshold = 0): ModelKnots {
  return count(model, checkThreshold(threshold, 'modelActiveKnots'));
}

/**
 * Sparsifies every spline layer of `model` in place: each ReLU slope with
 * `|a_k| <= threshold` is set to 0 (the coefficients are rebuilt keeping `c[0]`, `c[1]`).
 * `threshold = 0` leaves the model's function unchanged. Returns the active knots after,
 * counted at the same threshold (the coefficients are rebuilt in float64 and rounded once to
 * float32; that rounding leaves residues of a few float32 ulps of the coefficients, over the
 * knot spacing, at the removed knots, which a count at threshold 0 would see).
 *
 * @example
 * ```ts
 * const after = sparsify(model, 1e-2);
 * console.log(`${after.total} active knots left`);
 * ```
 */
export function sparsify(model: tfl.LayersModel, threshold: number): ModelKnots {
  checkThreshold(threshold, 'sparsify');
  for (const {layer} of splineLayers(model)) layer.sparsify(threshold);
  return count(model, threshold);
}
