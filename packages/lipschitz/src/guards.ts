/**
 * Type guards that also work across module copies (a CommonJS and an ESM copy of
 * tfjs-layers or of @deepspline/layers loaded side by side defeat `instanceof`).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {SplineActivation} from '@deepspline/layers';

/** Whether `x` is a tfjs-layers model (Sequential or functional). */
export function isLayersModel(x: unknown): x is tfl.LayersModel {
  if (x instanceof tfl.LayersModel) return true;
  const m = x as {layers?: unknown, outputs?: unknown, predict?: unknown} | null;
  return m != null && typeof m === 'object' && Array.isArray(m.layers) && Array.isArray(m.outputs) &&
    typeof m.predict === 'function';
}

/** Whether `layer` is a `SplineActivation` layer. */
export function isSplineLayer(layer: unknown): layer is SplineActivation {
  return layer instanceof SplineActivation ||
    (layer != null && typeof (layer as {getClassName?: unknown}).getClassName === 'function' &&
     (layer as tfl.layers.Layer).getClassName() === 'SplineActivation' &&
     typeof (layer as SplineActivation).lipschitz === 'function');
}
